"""Hand-off settings: what eidflow.toml may say, and what it may not."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.runfolder import new_run_id
from app.settings import load_settings
from eidflow.errors import ConfigError
from exporters.config import DEFAULT_OPERATOR_COLUMNS, DeliverySettings, OperatorProfile
from tests.app.test_settings import assert_config_error, config, ingest

WORKED_PROFILE = """
[[operators]]
name = "northwind"
account = "000412"
format = "xlsx"
rows_per_file = 5000
file_name = "{operator}_{account}_{date}_{run}_{part:03d}"
columns = [
  { header = "EID", field = "eid" },
  { header = "IMEI", field = "imei" },
  { header = "Account", value = "000412" },
  { header = "Rate Plan", value = "IOT-5GB" },
]
match = { po_numbers = ["PO-77*"] }

[[operators]]
name = "contoso-mobile"
delimiter = ";"
encoding = "utf-8-sig"

[delivery]
kind = "s3"
[delivery.s3]
bucket = "esim-handoff"
prefix = "eidflow/outbox"
region = "eu-west-1"
sse = "aws:kms"
kms_key_id = "alias/esim-handoff"
max_attempts = 8
retry_mode = "adaptive"
"""


def test_worked_profile_from_the_readme_loads(tmp_path: Path) -> None:
    config = tmp_path / "eidflow.toml"
    config.write_text(WORKED_PROFILE)
    settings = load_settings(config)
    northwind, contoso = settings.operators
    assert [c.header for c in northwind.columns] == ["EID", "IMEI", "Account", "Rate Plan"]
    assert northwind.columns[2].value == "000412"
    assert northwind.match.po_numbers == ["PO-77*"]
    assert [c.header for c in contoso.columns] == list(DEFAULT_OPERATOR_COLUMNS)
    assert contoso.match.catch_all
    assert settings.delivery.s3.sse == "aws:kms"
    assert settings.delivery.s3.retry_mode == "adaptive"


def test_docs_hold_the_worked_profile() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    assert WORKED_PROFILE.strip().split("\n[delivery]")[0] in docs


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ({"columns": ["Colour"]}, "no row field of that name"),
        ({"columns": [{"header": "X", "field": "colour"}]}, "unknown field"),
        ({"columns": [{"header": "X", "field": "eid", "value": "1"}]}, "exactly one"),
        ({"columns": [{"header": "X"}]}, "exactly one"),
        ({"columns": [{"header": "Account", "value": 412}]}, "valid string"),
        ({"name": "../etc"}, "names a folder"),
        ({"delimiter": ";;"}, "one character"),
        ({"encoding": "klingon"}, "unknown encoding"),
        ({"file_name": "{operator}_{colour}"}, "placeholders are"),
        ({"file_name": "../{operator}"}, "no folders"),
        ({"format": "pdf"}, "csv"),
        ({"rows_per_file": -1}, "greater than or equal"),
        ({"columns": []}, "no columns"),
        ({"encoding": "rot13"}, "not a text encoding"),
        ({"encoding": "hex"}, "not a text encoding"),
        ({"encoding": "base64"}, "not a text encoding"),
        ({"encoding": "idna"}, "not a text encoding"),
        ({"account": "../../../escaped"}, r"account .* no folders"),
        ({"account": "ACME/EU"}, r"account .* no folders"),
        ({"account": "ACME\\EU"}, r"account .* no folders"),
        ({"account": ".."}, r"account .* no '\.\.'"),
        ({"account": "ACME:EU"}, r"account .*':' \(Windows refuses them\)"),
        ({"account": "a\tb"}, r"account .*Windows refuses"),
        ({"file_name": "{operator}|{date}"}, r"file_name .*'\|' \(Windows refuses them\)"),
        ({"file_name": "{operator}..{date}"}, r"file_name .* no '\.\.'"),
        ({"file_name": "{operator}.xlsx"}, r"file_name .* ends in \.xlsx but format is 'csv'"),
        ({"file_name": "{account}", "account": "con"}, "device name on Windows"),
        ({"file_name": "{operator}", "name": "NUL"}, "device name on Windows"),
        ({"file_name": "{account}_{date}", "account": ".acme"}, "a hidden file"),
        ({"sheet_name": "E" * 32}, r"sheet_name .*32 characters, Excel allows 31"),
        ({"sheet_name": "EIDs [EU]"}, r"sheet_name .*Excel refuses '\[' '\]'"),
        ({"sheet_name": "a/b"}, "Excel refuses '/'"),
        ({"sheet_name": "'quoted'"}, "leading or trailing"),
        ({"sheet_name": "History"}, "History"),
        (
            {"format": "xlsx", "name": "n" * 32},
            r"sheet_name \(the operator's name .*Excel allows 31",
        ),
    ],
)
def test_bad_profiles_say_what_is_wrong(profile: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        OperatorProfile.model_validate(profile)


@pytest.mark.parametrize(
    ("entry", "toml"),
    [
        ("operators.0.account", 'account = "../../../escaped"\nfile_name = "{account}_{date}"'),
        ("operators.0.account", 'account = "ACME/EU"'),
        ("operators.0.columns", "columns = []"),
        ("operators.0.encoding", 'encoding = "rot13"'),
        ("operators.0.sheet_name", 'format = "xlsx"\nsheet_name = "EIDs [EU]"'),
    ],
)
def test_the_cli_refuses_a_bad_profile_before_the_run(
    tmp_path: Path, entry: str, toml: str
) -> None:
    done = ingest(tmp_path, "--config", config(tmp_path, f'[[operators]]\nname = "x"\n{toml}\n'))
    assert_config_error(done, entry)
    assert not (tmp_path / "run").exists()
    assert [path.name for path in tmp_path.iterdir()] == ["eidflow.toml"]  # no file, no ledger


def test_short_column_names_find_their_fields() -> None:
    profile = OperatorProfile(columns=["eid", "Serial", "PO", "Purchase Order", "po_number"])
    assert [c.field for c in profile.columns] == ["eid", "serial_number", *["po_number"] * 3]


def test_s3_delivery_needs_a_bucket() -> None:
    with pytest.raises(ValidationError, match=r"needs delivery\.s3\.bucket"):
        DeliverySettings(kind="s3")


def test_bad_toml_profile_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "eidflow.toml"
    config.write_text('[[operators]]\nname = "x"\ncolumns = ["Colour"]\n')
    with pytest.raises(ConfigError, match=r"operators\.0\.columns"):
        load_settings(config)


@pytest.mark.parametrize(
    "profile",
    [
        {"file_name": "x{part:0300d}"},
        {"file_name": "{run:>250}"},
        {"file_name": "{account}_{date}", "account": "a" * 240},
        {"file_name": "é" * 130},  # 130 characters, 260 bytes
        {"name": "n" * 240},  # the default pattern starts with {operator}
    ],
)
def test_a_file_name_too_long_for_a_file_system_is_refused(profile: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match=r"file_name .* bytes"):
        OperatorProfile.model_validate(profile)


def test_the_cli_refuses_a_file_name_too_long_before_the_run(tmp_path: Path) -> None:
    toml = '[[operators]]\nname = "x"\nfile_name = "x{part:0300d}"\n'
    done = ingest(tmp_path, "--config", config(tmp_path, toml))
    assert_config_error(done, "operators.0", "file_name")
    assert not (tmp_path / "run").exists()


def test_the_longest_file_name_accepted_can_be_written(tmp_path: Path) -> None:
    """At the limit, with the longest parts (many parts, a run id): written, and its temporary
    name beside it too; one byte more is refused at load."""
    from exporters.config import MAX_FILE_NAME_BYTES
    from exporters.operator import write_operator_files
    from tests.exporters.rows import handoff

    run_id = new_run_id()
    fixed = len("_") + len(run_id) + len("_") + 9 + len(".csv")  # {run}, {part:09d}, extension
    limit = MAX_FILE_NAME_BYTES
    pattern = "f" * (limit - fixed) + "_{run}_{part:09d}"
    profile = OperatorProfile(file_name=pattern, rows_per_file=1)
    outputs = write_operator_files(handoff(2), profile, tmp_path, run_id)
    assert [len(Path(o.path).name.encode()) for o in outputs] == [limit, limit]
    with pytest.raises(ValidationError, match="file_name"):
        OperatorProfile(file_name="f" + pattern)
