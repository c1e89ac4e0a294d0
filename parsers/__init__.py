"""Readers for what arrives: OEM/reseller manifests, the Intune inventory, the Entra devices export.

- ``read_manifest(name, data, settings, profile=...) -> ManifestRead`` raises ``ManifestError``
  (names the file, sheet and row, says what to do) for anything that is not a readable manifest.
- ``read_intune_inventory(name, data) -> DataFrame`` of ``schema.INVENTORY_COLUMNS``.
- ``read_entra_devices(name, data) -> DataFrame`` of ``schema.ENTRA_COLUMNS``.
- ``read_autopilot_identities(name, data) -> DataFrame`` of ``schema.AUTOPILOT_COLUMNS``.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parsers.base import ManifestRead, Skipped, empty_rows
    from parsers.config import ManifestProfile, ParserSettings
    from parsers.exports import (
        read_autopilot_identities,
        read_entra_devices,
        read_intune_inventory,
    )
    from parsers.manifest import read_manifest

# Imported on first use (PEP 562): reading the settings (``ParserSettings``) needs no pandas.
_WHERE = {
    "ManifestRead": "base",
    "Skipped": "base",
    "empty_rows": "base",
    "ManifestProfile": "config",
    "ParserSettings": "config",
    "read_autopilot_identities": "exports",
    "read_entra_devices": "exports",
    "read_intune_inventory": "exports",
    "read_manifest": "manifest",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"parsers.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'parsers' has no attribute {name!r}")


__all__ = [
    "ManifestProfile",
    "ManifestRead",
    "ParserSettings",
    "Skipped",
    "empty_rows",
    "read_autopilot_identities",
    "read_entra_devices",
    "read_intune_inventory",
    "read_manifest",
]
