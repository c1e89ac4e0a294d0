"""The ledger: manifests received, devices, hand-offs and group memberships (SQLite or PostgreSQL)."""

from eidflow.ledger.base import Ledger, ManifestRecord

__all__ = ["Ledger", "ManifestRecord"]
