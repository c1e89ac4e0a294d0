"""One place decides every setting: eidflow.toml, then ``EIDFLOW_*`` environment, then flags.

Environment variables use ``__`` for nesting, e.g. ``EIDFLOW_LEDGER__URL=postgresql://…``.
Each section's model lives beside the code it configures.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from eidflow.errors import ConfigError
from eidflow.graph.config import GraphSettings
from exporters.config import DeliverySettings, EntraSettings, OperatorProfile, ReportSettings
from flows.config import FlowSettings
from parsers.config import ParserSettings

DEFAULT_CONFIG_FILE = "eidflow.toml"
DEFAULT_LEDGER_URL = "sqlite:///eidflow-ledger.db"


class LedgerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = DEFAULT_LEDGER_URL


class OutputSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runs_dir: Path = Path("runs")


class ReconcileSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # eSIM provisioning through Intune needs Windows 11 22H2 (build 22621) or later.
    min_os_version: str = "10.0.22621"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EIDFLOW_", env_nested_delimiter="__", extra="forbid"
    )

    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    output: OutputSettings = Field(default_factory=OutputSettings)
    reconcile: ReconcileSettings = Field(default_factory=ReconcileSettings)
    parsers: ParserSettings = Field(default_factory=ParserSettings)
    operators: list[OperatorProfile] = Field(default_factory=lambda: [OperatorProfile()])
    entra: EntraSettings = Field(default_factory=EntraSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    flows: FlowSettings = Field(default_factory=FlowSettings)
    graph: GraphSettings = Field(default_factory=GraphSettings)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read eidflow.toml (the given one, or ./eidflow.toml if present) and the environment."""
    path = config_file
    if path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        path = Path(DEFAULT_CONFIG_FILE)
    file_values: dict[str, Any] = {}
    if path is not None:
        file_values = _read_toml(path)
    try:
        return _build(file_values, overrides)
    except ValidationError as error:
        raise ConfigError(
            f"{path or 'the environment'}: invalid settings: {_describe(error)}",
            todo="Fix these entries; README 'Configuration' lists every setting.",
        ) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found.", todo="Check the --config path."
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


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
    )
