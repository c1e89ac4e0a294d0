"""A ledger that cannot be opened ends every ledger command with one line, exit 2.

Through the real CLI (a subprocess), as a user who mistypes ``--ledger`` meets it.
"""

from __future__ import annotations

import secrets
import sqlite3
import subprocess
from pathlib import Path

import pytest

from eidflow.errors import EXIT_USAGE
from eidflow.ledger import open_ledger
from tests.cli import eidflow

LENOVO = Path(__file__).resolve().parents[2] / "data" / "samples" / "lenovo-shipment-4401190.csv"


def ledger_command(command: str, url: str, work: Path) -> list[str | Path]:
    """``command`` as a user runs it against the ledger at ``url``."""
    arguments: dict[str, list[str | Path]] = {
        "ingest": ["ingest", LENOVO, "--out", work / "run"],
        "history": ["history"],
        "show": ["show", "SER-1"],
        "resend": ["resend", "SER-1", "--operator", "unnamed", "--reason", "lost",
                   "--out", work / "run"],
    }  # fmt: skip
    return [*arguments[command], "--ledger", url]


COMMANDS = ["ingest", "history", "show", "resend"]


def assert_one_line_exit_2(done: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    for text in expected:
        assert text in line
    return line


@pytest.mark.parametrize("command", COMMANDS)
def test_a_file_that_is_not_a_sqlite_database(command: str, tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("text\n")
    done = eidflow(*ledger_command(command, f"sqlite:///{notes}", tmp_path), cwd=tmp_path)
    assert_one_line_exit_2(
        done,
        f"ledger {notes} is not an eidflow ledger",
        "not a SQLite database",
        "Point --ledger",
        "new path",
    )
    assert notes.read_text() == "text\n"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("command", "url"),
    [(command, "postgresql://postgres@127.0.0.1:543a/db") for command in COMMANDS]
    + [
        ("history", "postgresql://postgres@[::1/db"),
        ("ingest", "postgresql://postgres@127.0.0.1:/db"),
    ],
)
def test_a_malformed_url_names_itself(command: str, url: str, tmp_path: Path) -> None:
    done = eidflow(*ledger_command(command, url, tmp_path), cwd=tmp_path)
    assert_one_line_exit_2(done, f"ledger URL {url!r} is not a valid URL", "the port is a number")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://alice:s3cret@127.0.0.1:543a/db",
            "'postgresql://alice:***@127.0.0.1:543a/db'",
        ),
        ("postgress://alice:s3cret@127.0.0.1/db", "'postgress://alice:***@127.0.0.1/db'"),
    ],
)
def test_a_bad_url_does_not_show_its_password(url: str, shown: str, tmp_path: Path) -> None:
    done = eidflow("history", "--ledger", url, cwd=tmp_path)
    assert_one_line_exit_2(done, shown)
    assert "s3cret" not in done.stderr + done.stdout


def test_an_unknown_connection_option(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/test?sslmod=require"
    done = eidflow(*ledger_command("ingest", url, tmp_path), cwd=tmp_path)
    assert_one_line_exit_2(
        done, "cannot connect to the ledger", 'invalid URI query parameter: "sslmod"'
    )


@pytest.mark.postgres
@pytest.mark.parametrize("command", ["ingest", "history"])
def test_a_search_path_schema_that_does_not_exist(
    command: str, pg_server: str, tmp_path: Path
) -> None:
    url = f"{pg_server}?options=-csearch_path%3Dno_such_{secrets.token_hex(4)}"
    done = eidflow(*ledger_command(command, url, tmp_path), cwd=tmp_path)
    if command == "ingest":  # it would create the ledger: the schema must be there for it
        assert_one_line_exit_2(done, "no schema has been selected", "search_path must exist")
    else:  # a question finds no ledger there, and creates none
        assert_one_line_exit_2(done, "holds no eidflow ledger yet")


def test_another_applications_alembic_database(tmp_path: Path) -> None:
    other = tmp_path / "photos.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('ae1027a6acf')")
    connection.close()
    for command in COMMANDS:
        done = eidflow(*ledger_command(command, f"sqlite:///{other}", tmp_path), cwd=tmp_path)
        assert_one_line_exit_2(
            done, f"ledger {other} is not an eidflow ledger", "'ae1027a6acf'", "Point --ledger"
        )


def test_a_ledger_from_a_newer_eidflow(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    open_ledger(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0999'")
    connection.close()
    for command in COMMANDS:
        done = eidflow(*ledger_command(command, f"sqlite:///{path}", tmp_path), cwd=tmp_path)
        assert_one_line_exit_2(done, f"ledger {path} was written by a newer eidflow", "0999")


def damage(path: Path) -> None:
    """Keep the header page, overwrite the tables."""
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.seek(4096)
        handle.write(b"\xff" * (size - 4096))


@pytest.mark.parametrize("command", ["history", "ingest"])  # ingest: checked in the background
def test_a_damaged_ledger(command: str, tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    open_ledger(f"sqlite:///{path}").close()
    damage(path)
    done = eidflow(*ledger_command(command, f"sqlite:///{path}", tmp_path), cwd=tmp_path)
    assert_one_line_exit_2(done, f"ledger {path} is damaged", "malformed", "backup")
    assert not (tmp_path / "run").exists()


def test_an_early_check_serves_the_open_and_a_damaged_file_is_still_refused(
    tmp_path: Path,
) -> None:
    """``check_soon`` checks while the run loads; the open waits for it and trusts a sound
    answer; a damaged file (found so early, or not) is refused by the open itself."""
    from eidflow.errors import ConfigError
    from eidflow.ledger import connect, parse

    path = tmp_path / "ledger.db"
    url = parse(f"sqlite:///{path}")
    open_ledger(url).close()  # made: nothing checked
    connect.check_soon(url)
    ledger = open_ledger(url)
    assert connect._found_sound(url)  # the early check found it sound
    ledger.close()
    damage(path)
    connect.check_soon(url)
    with pytest.raises(ConfigError, match="is damaged"):
        open_ledger(url).close()
    assert not connect._CHECKING  # the open waited for the check it was given


def test_a_ledger_damaged_after_a_sound_open_is_refused_by_the_same_process(
    tmp_path: Path,
) -> None:
    """One quick check serves two opens of an unchanged file (ingest's look, then its run);
    a file written since is checked again, in the same process."""
    from eidflow.errors import ConfigError

    path = tmp_path / "ledger.db"
    url = f"sqlite:///{path}"
    open_ledger(url).close()  # made: nothing to check
    open_ledger(url).close()  # checked, found sound
    open_ledger(url).close()  # unchanged: sound still
    damage(path)
    with pytest.raises(ConfigError, match="is damaged"):
        open_ledger(url).close()


def test_a_long_quick_check_stops_at_its_deadline_and_the_ledger_still_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A ledger of several GB is checked in part: the check is interrupted at its deadline
    (the part read was sound), and the interrupt does not reach the statements after it."""
    from eidflow.ledger import connect, parse

    path = tmp_path / "ledger.db"
    url = parse(f"sqlite:///{path}")
    open_ledger(url).close()
    with sqlite3.connect(path) as connection:  # some 60 MB: a check of 0.1 s or more
        connection.execute("CREATE TABLE padding (b BLOB)")
        connection.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)"
            " INSERT INTO padding SELECT randomblob(200) FROM n"
        )
    connection.close()
    monkeypatch.setattr(connect, "QUICK_CHECK_SECONDS", 0.005)
    caplog.set_level("INFO", logger="eidflow")
    opened = connect.open_database(url, create=False)
    try:
        assert "quick check stopped" in caplog.text
        assert opened.connection.scalar("SELECT count(*) FROM padding") == 300000
    finally:
        opened.connection.close()
