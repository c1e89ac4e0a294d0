"""Readers for what arrives: OEM/reseller manifests, the Intune inventory, the Entra devices export.

- ``read_manifest(name, data, settings) -> ManifestRead`` raises ``ManifestError`` (names the
  file, sheet and row, says what to do) for anything that is not a readable manifest.
- ``read_intune_inventory(name, data) -> DataFrame`` of ``schema.INVENTORY_COLUMNS``.
- ``read_entra_devices(name, data) -> DataFrame`` of ``schema.ENTRA_COLUMNS``.
"""
