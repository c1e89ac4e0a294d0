"""Loading settings: every unknown or invalid entry is a ConfigError (exit 2) naming it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.settings import load_settings
from eidflow.errors import ConfigError
from tests.cli import eidflow

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
GROUP = "3f1c7a52-8d4e-4b2a-9c61-0e5d7b8a4f20"


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "eidflow.toml"
    path.write_text(text, encoding="utf-8")
    return path


def ingest(tmp_path: Path, *args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    return eidflow(
        "ingest",
        SAMPLES / "lenovo-shipment-4401190.csv",
        "--out",
        tmp_path / "run",
        "--ledger",
        f"sqlite:///{tmp_path / 'ledger.db'}",
        *args,
        cwd=tmp_path,
        env=env,
    )


def assert_config_error(done: subprocess.CompletedProcess[str], *named: str) -> None:
    """Exit 2, one line on stderr naming the entry, no traceback, no run folder."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for name in named:
        assert name in done.stderr


def test_the_samples_config_loads() -> None:
    settings = load_settings(SAMPLES / "eidflow.toml")
    assert settings.entra.group_id == "00000000-0000-0000-0000-000000000000"  # a placeholder
    assert settings.reconcile.min_os_version == "10.0.22621"


def test_a_folder_given_as_config_is_named(tmp_path: Path) -> None:
    done = ingest(tmp_path, "--config", tmp_path)
    assert_config_error(done, str(tmp_path), "is a folder")
    assert not (tmp_path / "run").exists()


def test_a_config_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b"\xff\xfe[ledger]\n")
    done = ingest(tmp_path, "--config", path)
    assert_config_error(done, str(path), "not UTF-8")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("EIDFLOW_OPERATORS", "notjson"),
        ("EIDFLOW_PARSERS", "{max_cell_chars: 5}"),
        ("EIDFLOW_PARSERS__PROFILES", "notjson"),
    ],
)
def test_an_environment_value_that_is_not_json_is_named(
    tmp_path: Path, variable: str, value: str
) -> None:
    done = ingest(tmp_path, **{variable: value})
    assert_config_error(done, f"environment variable {variable}:", "not valid JSON")
    assert value not in done.stderr  # values may be secrets (EIDFLOW_GRAPH)


def test_environment_json_still_sets_operators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EIDFLOW_OPERATORS", '[{"name": "contoso"}, {"name": "northwind"}]')
    assert [p.name for p in load_settings().operators] == ["contoso", "northwind"]


def test_a_bad_value_from_the_environment_names_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config(tmp_path, "[parsers]\nmax_cell_chars = 100\n")
    monkeypatch.setenv("EIDFLOW_PARSERS__HEADER_SEARCH_ROWS", "0")
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert "parsers.header_search_rows (from EIDFLOW_PARSERS__HEADER_SEARCH_ROWS):" in str(
        raised.value
    )


@pytest.mark.parametrize("variable", ["EIDFLOW_LEDGR__URL", "EIDFLOW_LEDGER_URL"])
def test_a_misspelt_environment_variable_is_named(tmp_path: Path, variable: str) -> None:
    # Ignored, it would leave the ledger on its default without a word.
    done = ingest(tmp_path, **{variable: "postgresql://postgres@127.0.0.1:5432/test"})
    assert_config_error(done, f"environment variable {variable}: no such setting")


def test_eidflow_home_is_not_a_setting_but_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EIDFLOW_HOME", str(tmp_path))  # prefect.yaml's checkout on a worker
    assert load_settings().ledger.url.startswith("sqlite:///")


def test_without_a_setting_the_ledger_is_the_users_own_whatever_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_data_folder: Path
) -> None:
    for folder in (tmp_path / "a", tmp_path / "b"):
        folder.mkdir()
        monkeypatch.chdir(folder)
        assert load_settings().ledger.url == f"sqlite:///{user_data_folder / 'ledger.db'}"


def test_relative_paths_in_the_config_file_are_relative_to_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "etc"
    home.mkdir()
    path = config(
        home,
        '[ledger]\nurl = "sqlite:///state/ledger.db"\n[output]\nruns_dir = "runs"\n'
        '[delivery]\nfolder = "../outbox"\n[flows]\ninbox = "s3://bucket/inbox/"\n',
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings(path.relative_to(tmp_path))
    assert settings.ledger.url == f"sqlite:///{home / 'state' / 'ledger.db'}"
    assert settings.output.runs_dir == home / "runs"
    assert settings.delivery.folder == str(home / "../outbox")
    assert settings.flows.inbox == "s3://bucket/inbox/"  # a URL stays as it is


def test_relative_paths_from_the_environment_are_relative_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config(tmp_path, '[ledger]\nurl = "sqlite:///in-file.db"\n')
    monkeypatch.setenv("EIDFLOW_LEDGER__URL", "sqlite:///from-env.db")
    assert load_settings(path).ledger.url == "sqlite:///from-env.db"


@pytest.mark.parametrize("version", ["banana", "", " ", "10", "10.0.22621.1.2", "10.0.x", "v10.0"])
def test_min_os_version_must_be_a_windows_version(tmp_path: Path, version: str) -> None:
    path = config(tmp_path, f'[reconcile]\nmin_os_version = "{version}"\n')
    with pytest.raises(ConfigError, match=r"reconcile\.min_os_version: .*not a Windows version"):
        load_settings(path)


@pytest.mark.parametrize("version", ["10.0.22621", "10.0.22631.4460", " 10.0.26100 ", "6.3"])
def test_min_os_version_takes_windows_versions(tmp_path: Path, version: str) -> None:
    path = config(tmp_path, f'[reconcile]\nmin_os_version = "{version}"\n')
    assert load_settings(path).reconcile.min_os_version == version.strip()


@pytest.mark.parametrize(("first", "second"), [("contoso", "contoso"), ("Contoso", "contoso")])
def test_two_operators_of_one_name_are_refused(tmp_path: Path, first: str, second: str) -> None:
    path = config(
        tmp_path,
        f'[[operators]]\nname = "{first}"\nformat = "xlsx"\n\n[[operators]]\nname = "{second}"\n',
    )
    with pytest.raises(ConfigError, match=rf"operators: two \[\[operators\]\] .*'{first}'"):
        load_settings(path)


def test_a_duplicated_operator_in_the_cli_is_exit_2(tmp_path: Path) -> None:
    path = config(tmp_path, '[[operators]]\nname = "contoso"\n[[operators]]\nname = "contoso"\n')
    done = ingest(tmp_path, "--config", path)
    assert_config_error(done, "operators", "'contoso'")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("entry", "value"),
    [
        ("header_search_rows", "0"),
        ("max_cell_chars", "-5"),
        ("max_uncompressed_bytes", "0"),
        ("max_reader_memory_bytes", "-1"),
        ("max_reader_seconds", "0"),
    ],
)
def test_parser_limits_must_be_positive(tmp_path: Path, entry: str, value: str) -> None:
    path = config(tmp_path, f"[parsers]\n{entry} = {value}\n")
    with pytest.raises(ConfigError, match=rf"parsers\.{entry}: Input should be greater than 0"):
        load_settings(path)


@pytest.mark.parametrize("entry", ["connect_timeout", "read_timeout"])
def test_s3_timeouts_must_be_positive(tmp_path: Path, entry: str) -> None:
    path = config(tmp_path, f"[delivery.s3]\n{entry} = 0\n")
    with pytest.raises(ConfigError, match=rf"delivery\.s3\.{entry}: Input should be greater"):
        load_settings(path)


@pytest.mark.parametrize(
    "group_id", ["not-a-guid", GROUP + "0", GROUP.replace("-", ""), "{" + GROUP + "}"]
)
def test_entra_group_id_must_be_a_guid(tmp_path: Path, group_id: str) -> None:
    path = config(tmp_path, f'[entra]\ngroup_id = "{group_id}"\n')
    with pytest.raises(ConfigError, match=r"entra\.group_id: .*not a group Object ID"):
        load_settings(path)


@pytest.mark.parametrize(("group_id", "kept"), [("", ""), (GROUP.upper(), GROUP.upper())])
def test_entra_group_id_may_be_unset(tmp_path: Path, group_id: str, kept: str) -> None:
    path = config(tmp_path, f'[entra]\ngroup_id = "{group_id}"\n')
    assert load_settings(path).entra.group_id == kept


@pytest.mark.parametrize("limit", ["0", "-5"])
def test_history_limit_must_be_positive(tmp_path: Path, limit: str) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    done = eidflow("history", "--ledger", ledger, "--limit", limit, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "--limit" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        (
            '[[operators]]\nname = "x"\ndelimeter = ";"\n',
            "operators.0.delimeter: no such setting; did you mean 'delimiter'?",
        ),
        ("[ledgr]\nurl = 'sqlite:///x.db'\n", "ledgr: no such setting; did you mean 'ledger'?"),
        ("[flows]\nheartbeat_second = 60\n", "did you mean 'heartbeat_seconds'?"),
        ("[output]\nzzz = 1\n", "output.zzz: no such setting"),
    ],
)
def test_an_unknown_setting_is_named_with_the_one_it_probably_is(
    tmp_path: Path, toml: str, says: str
) -> None:
    config = tmp_path / "eidflow.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert says in str(caught.value)
    assert "Extra inputs" not in str(caught.value)
