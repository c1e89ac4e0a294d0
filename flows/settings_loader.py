"""Settings for a flow run: eidflow.toml (given or ./eidflow.toml), the environment, Prefect
Secret blocks, overrides.

Flows load their own settings on the worker, so no secret ever travels as a parameter:
credentials come from the workers' environment, ``~/.pgpass``, or the Secret blocks named in
``[flows.secret_blocks]`` (``prefect block ls``; created once, e.g.
``Secret(value="postgresql://…").save("eidflow-ledger-url")``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.settings import Settings, load_settings
from eidflow.errors import ConfigError


def load_flow_settings(config_file: str | None, ledger_url: str | None = None) -> Settings:
    overrides: dict[str, Any] = {"ledger": {"url": ledger_url}} if ledger_url else {}
    settings = load_settings(Path(config_file) if config_file else None, **overrides)
    blocks = settings.flows.secret_blocks
    from_blocks: dict[str, Any] = {}
    if blocks.ledger_url and not ledger_url:
        from_blocks["ledger"] = {"url": read_secret(blocks.ledger_url, "ledger_url")}
    if blocks.graph_client_secret:
        secret = read_secret(blocks.graph_client_secret, "graph_client_secret")
        from_blocks["graph"] = {"client_secret": secret}
    if not from_blocks:
        return settings
    return load_settings(
        Path(config_file) if config_file else None, **_merged(overrides, from_blocks)
    )


def read_secret(name: str, setting: str) -> str:
    """The value of the Prefect Secret block ``name``; a missing block is a config error."""
    from prefect.blocks.system import Secret

    try:
        block: Any = Secret.load(name)
        return str(block.get())
    except ValueError as error:
        raise ConfigError(
            f"[flows.secret_blocks] {setting} = {name!r}: no Prefect Secret block of that name"
            f" ({type(error).__name__}).",
            todo="Create it (prefect block ls lists the blocks), or fix the name.",
        ) from None


def _merged(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    merged = {key: dict(value) for key, value in first.items()}
    for key, value in second.items():
        merged.setdefault(key, {}).update(value)
    return merged
