"""What a small ``eidflow ingest`` imports: only what its run needs (start-up is most of it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import user_env

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
# Modules a local 20-row ingest into SQLite has no use for: the other commands, S3, the
# PostgreSQL driver, Alembic and SQLAlchemy (the ledger is at head), Prefect, the progress bar.
NOT_NEEDED = (
    "app.cli.answers",
    "app.cli.graph_check",
    "app.cli.groups",
    "app.cli.intune",
    "app.cli.resend",
    "app.cli.status",
    "flows.serve",
    "botocore",
    "boto3",
    "psycopg",
    "alembic",
    "sqlalchemy",
    "prefect",
    "rich",
)
RUN_AND_LIST = (
    "import atexit, sys\n"
    "listing = sys.argv.pop(1)\n"
    "def listed():\n"
    "    with open(listing, 'w') as handle:\n"
    "        handle.write('\\n'.join(sorted(sys.modules)))\n"
    "atexit.register(listed)\n"
    "from eidflow.__main__ import run\n"
    "run()\n"
)


def imported_by(tmp_path: Path, *args: str) -> set[str]:
    listing = tmp_path / "modules.txt"
    command = [sys.executable, "-c", RUN_AND_LIST, str(listing), *args]
    done = subprocess.run(command, cwd=tmp_path, env=user_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return set(listing.read_text().split())


def test_a_small_sqlite_ingest_imports_only_what_it_uses(tmp_path: Path) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    samples = [SAMPLES / "dell-asn-PO-2026-1187.xlsx", SAMPLES / "lenovo-shipment-4401190.csv"]
    manifests = [str(path) for path in samples]
    config = ["--config", str(SAMPLES / "eidflow.toml"), "--no-progress"]
    imported_by(tmp_path, "ingest", *manifests, "--ledger", ledger, *config, "--out", "first")
    again = ["--reprocess", "--out", "again"]  # the ledger is there, at head
    modules = imported_by(tmp_path, "ingest", *manifests, "--ledger", ledger, *config, *again)
    assert "app.cli.ingest" in modules
    loaded = sorted(
        name for name in modules if any(name == n or name.startswith(f"{n}.") for n in NOT_NEEDED)
    )
    assert loaded == []


def test_help_still_lists_every_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "eidflow", "--help"],
        cwd=tmp_path,
        env=user_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    for name in ("ingest", "operator-response", "intune", "graph", "groups", "serve", "status"):
        assert f"\n  {name} " in done.stdout


# What no command needs to say what it is: `eidflow --help` loads every command for its line.
NOT_FOR_HELP = ("pandas", "sqlalchemy", "alembic", "psycopg", "prefect", "botocore", "openpyxl")


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("void", "--help")])
def test_help_and_version_load_no_frames_database_or_prefect(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    modules = imported_by(tmp_path, *args)
    loaded = sorted(
        name for name in modules if any(name == n or name.startswith(f"{n}.") for n in NOT_FOR_HELP)
    )
    assert loaded == []


POOL = (
    "import sys\n"
    "sys.argv[1:] = ['--help']\n"
    "from eidflow.__main__ import run\n"
    "try:\n"
    "    run()\n"
    "except SystemExit:\n"
    "    import pyarrow\n"
    "    print(pyarrow.default_memory_pool().backend_name, file=sys.stderr)\n"
)


@pytest.mark.parametrize(("chosen", "used"), [(None, "jemalloc"), ("system", "system")])
def test_the_command_line_uses_arrows_jemalloc_pool_unless_one_is_chosen(
    tmp_path: Path, chosen: str | None, used: str
) -> None:
    env = {key: value for key, value in user_env().items() if key != "ARROW_DEFAULT_MEMORY_POOL"}
    if chosen:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    command = [sys.executable, "-c", POOL]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.stderr.strip().splitlines()[-1] == used
