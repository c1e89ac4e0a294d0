"""Readers for what arrives: OEM/reseller manifests, the Intune inventory, the Entra devices export.

- ``read_manifest(name, data, settings, profile=...) -> ManifestRead`` raises ``ManifestError``
  (names the file, sheet and row, says what to do) for anything that is not a readable manifest.
- ``read_intune_inventory(name, data) -> DataFrame`` of ``schema.INVENTORY_COLUMNS``.
- ``read_entra_devices(name, data) -> DataFrame`` of ``schema.ENTRA_COLUMNS``.
"""

from parsers.base import ManifestRead, Skipped, empty_rows
from parsers.config import ManifestProfile, ParserSettings
from parsers.exports import read_entra_devices, read_intune_inventory
from parsers.manifest import read_manifest

__all__ = [
    "ManifestProfile",
    "ManifestRead",
    "ParserSettings",
    "Skipped",
    "empty_rows",
    "read_entra_devices",
    "read_intune_inventory",
    "read_manifest",
]
