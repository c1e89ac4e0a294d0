"""One place decides every setting: eidflow.toml, then ``EIDFLOW_*`` environment, then flags.

Environment variables use ``__`` for nesting, e.g. ``EIDFLOW_LEDGER__URL=postgresql://…``.
Each section's model lives beside the code it configures.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from eidflow.core.config import ReconcileSettings
from eidflow.errors import ConfigError
from eidflow.graph.config import GraphSettings
from eidflow.intune.config import IntuneSettings
from eidflow.ledger.config import LedgerSettings
from exporters.config import DeliverySettings, EntraSettings, OperatorProfile, ReportSettings
from flows.config import FlowSettings
from parsers.config import ParserSettings

DEFAULT_CONFIG_FILE = "eidflow.toml"
ENV_PREFIX = "EIDFLOW_"
# EIDFLOW_* variables that are not settings: where a Prefect worker finds the checkout.
ENV_NOT_SETTINGS = frozenset({"EIDFLOW_HOME"})


class OutputSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runs_dir: Path = Path("runs")


class InventorySettings(BaseModel):
    """What ``eidflow ingest`` reconciles against when no flag says: export files, or "graph"."""

    model_config = ConfigDict(extra="forbid")

    intune: str = ""  # an Intune "All devices" export (path or s3://), or "graph"
    entra_devices: str = ""  # an Entra "Download devices" export, or "graph"
    # Windows Autopilot identities: an Autopilot devices export, "graph", or "none"; when
    # empty, Graph if the Intune inventory comes from Graph.
    autopilot: str = ""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    output: OutputSettings = Field(default_factory=OutputSettings)
    inventory: InventorySettings = Field(default_factory=InventorySettings)
    reconcile: ReconcileSettings = Field(default_factory=ReconcileSettings)
    parsers: ParserSettings = Field(default_factory=ParserSettings)
    operators: list[OperatorProfile] = Field(default_factory=lambda: [OperatorProfile()])
    entra: EntraSettings = Field(default_factory=EntraSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    flows: FlowSettings = Field(default_factory=FlowSettings)
    graph: GraphSettings = Field(default_factory=GraphSettings)
    intune: IntuneSettings = Field(default_factory=IntuneSettings)

    @field_validator("operators")
    @classmethod
    def _distinct_names(cls, operators: list[OperatorProfile]) -> list[OperatorProfile]:
        # A name is a folder of the run (operator/<name>/): on Windows and macOS case does not
        # tell folders apart, and a second profile of one name would hide the first.
        seen: dict[str, str] = {}
        for profile in operators:
            earlier = seen.get(profile.name.casefold())
            if earlier is not None:
                named = (
                    repr(earlier)
                    if earlier == profile.name
                    else f"{earlier!r} and {profile.name!r}"
                )
                raise ValueError(
                    f"two [[operators]] entries are named {named}; give each operator its own name"
                )
            seen[profile.name.casefold()] = profile.name
        return operators


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read eidflow.toml (the given one, or ./eidflow.toml if present) and the environment."""
    path = config_file
    if path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        path = Path(DEFAULT_CONFIG_FILE)
    file_values: dict[str, Any] = {}
    if path is not None:
        file_values = relative_to_file(_read_toml(path), path.resolve().parent)
    _check_environment_names()
    try:
        return _build(file_values, overrides)
    except SettingsError as error:
        raise _unreadable_environment(error) from None
    except ValidationError as error:
        raise ConfigError(
            f"{path or 'the environment'}: invalid settings: {_describe(error)}",
            todo="Fix these entries; docs/configuration.md lists every setting.",
        ) from None


# Settings that name files or folders: relative values in eidflow.toml are relative to
# the folder of eidflow.toml (as given on the command line or in the environment: to the
# current folder), so that one config means one ledger and one output root from anywhere.
PATH_SETTINGS = (
    ("output", "runs_dir"),
    ("delivery", "folder"),
    ("flows", "inbox"),
    ("flows", "inventory"),
    ("flows", "entra_devices"),
    ("inventory", "intune"),
    ("inventory", "entra_devices"),
    ("inventory", "autopilot"),
    ("flows", "autopilot"),
    ("graph", "certificate_path"),
)


def relative_to_file(values: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``values`` read from a config file in ``folder``, with its relative paths anchored there."""
    for section, entry in PATH_SETTINGS:
        table = values.get(section)
        if not isinstance(table, dict):
            continue
        value = table.get(entry)
        relative = (
            isinstance(value, str)
            and value
            and "://" not in value
            and value.lower() not in ("graph", "none")
        )
        if relative and not Path(str(value)).expanduser().is_absolute():
            table[entry] = str(folder / str(value))
    ledger = values.get("ledger")
    url = ledger.get("url") if isinstance(ledger, dict) else None
    if isinstance(ledger, dict) and isinstance(url, str) and url.lower().startswith("sqlite:///"):
        rest = url[len("sqlite:///") :]
        if rest and not rest.startswith(("/", "~")) and rest != ":memory:":
            ledger["url"] = f"sqlite:///{folder / rest}"
    return values


def _check_environment_names() -> None:
    """An ``EIDFLOW_*`` variable naming no section would be ignored: a typo that silently
    leaves, say, the ledger on its default. (Unknown entries within a section are caught
    by the section's model.)"""
    sections = set(Settings.model_fields)
    unknown = sorted(
        name
        for name in os.environ
        if name.upper().startswith(ENV_PREFIX)
        and name.upper() not in ENV_NOT_SETTINGS
        and name[len(ENV_PREFIX) :].split("__")[0].lower() not in sections
    )
    if unknown:
        raise ConfigError(
            f"environment variable {', '.join(unknown)}: no such setting (sections: "
            f"{', '.join(sorted(sections))}).",
            todo="Fix or unset it: EIDFLOW_<SECTION>__<ENTRY>, e.g. EIDFLOW_LEDGER__URL "
            "(docs/configuration.md).",
        )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found.", todo="Check the --config path."
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{path}: is a folder, not a config file.", todo="Give --config the eidflow.toml file."
        ) from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
            f"{error.start}); TOML files are UTF-8.",
            todo="Save the file as UTF-8.",
        ) from None
    except OSError as error:
        raise ConfigError(
            f"{path}: cannot read the config file ({error.strerror or error}).",
            todo="Check the --config path and its permissions.",
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error}).", todo="Fix the syntax.") from None


def _build(file_values: dict[str, Any], overrides: dict[str, Any]) -> Settings:
    """Flags (init values) win over the environment, which wins over the file."""

    class _FileSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return init_settings, env_settings, _DictSource(settings_cls, file_values)

    built = _FileSettings(**overrides)
    return Settings.model_validate(built.model_dump())


class _DictSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._values = values

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._values)


def _unreadable_environment(error: SettingsError) -> ConfigError:
    """pydantic-settings could not decode an ``EIDFLOW_*`` value (JSON, for lists and tables)."""
    found = re.search(r'field "([^"]+)"', str(error))
    own = f"{ENV_PREFIX}{found.group(1).upper()}" if found else ENV_PREFIX
    names = sorted(
        name for name in os.environ if name.upper() == own or name.upper().startswith(own + "__")
    )
    # The value is not shown (EIDFLOW_GRAPH may hold a client secret); JSON's reason is.
    cause = error.__cause__
    reason = (
        f"not valid JSON ({cause})" if isinstance(cause, json.JSONDecodeError) else "unreadable"
    )
    return ConfigError(
        f"environment variable {', '.join(names) or own + '*'}: {reason}.",
        todo='Write lists and tables as JSON, e.g. EIDFLOW_OPERATORS=\'[{"name": "contoso"}]\', '
        "or set one entry with __, e.g. EIDFLOW_LEDGER__URL=….",
    )


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc'])}{_set_by(item['loc'])}: {_message(item)}"
        for item in error.errors()
    )


def _message(item: Any) -> str:
    """Pydantic's message, in eidflow's words where it has them: an unknown key is named
    as such, with the known key it is probably a typo of."""
    if item["type"] != "extra_forbidden":
        return str(item["msg"]).removeprefix("Value error, ")
    known = _keys_at(Settings, tuple(item["loc"][:-1]))
    close = difflib.get_close_matches(str(item["loc"][-1]), known, n=1, cutoff=0.6)
    return "no such setting" + (f"; did you mean {close[0]!r}?" if close else "")


def _keys_at(model: Any, loc: tuple[int | str, ...]) -> list[str]:
    """The setting names of the model found at ``loc`` under ``model`` (list items by index)."""
    for part in loc:
        if isinstance(part, int):
            continue  # the list's item: its type was taken with the list
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _model_in(field.annotation)
    return list(getattr(model, "model_fields", {}))


def _model_in(annotation: Any) -> Any:
    """The pydantic model an annotation holds (``X``, ``list[X]``, ``X | None``), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _set_by(loc: tuple[int | str, ...]) -> str:
    """`` (from EIDFLOW_X__Y)`` when the environment, not the file, gave this entry."""
    present = {name.upper(): name for name in os.environ}
    for depth in range(len(loc), 0, -1):
        name = ENV_PREFIX + "__".join(str(part) for part in loc[:depth]).upper()
        if name in present:
            return f" (from {present[name]})"
    return ""
