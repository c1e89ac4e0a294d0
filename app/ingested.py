"""Manifests a complete run ingested already: told before any run folder is made.

A rerun of the same files (a second try, a script run twice) made an empty run folder
with 0 rows; now it says which run ingested each file, and when, and stops (exit 0).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from app.pipeline import load_input
from app.settings import Settings
from eidflow.errors import EidflowError
from eidflow.ledger import ManifestRecord, open_ledger, parse


@dataclass(frozen=True)
class Ingested:
    """A manifest given, and the complete run that ingested the same bytes."""

    source: str
    earlier: ManifestRecord

    def sentence(self) -> str:
        return (
            f"{self.source} was already processed by run {self.earlier.run_id} on"
            f" {self.earlier.received_at:%Y-%m-%d %H:%M} UTC; nothing to do. Give --reprocess"
            " to read it again."
        )


def every_one_ingested(manifests: list[str], settings: Settings) -> list[Ingested]:
    """Each of ``manifests`` with the run that ingested it, when a complete run ingested
    every one; else ``[]`` and the run goes on (it says so of each file seen before).

    Only local files are looked at (an S3 object is downloaded once, by the run); the first
    one new, unreadable or not a file ends the look (the run names what is wrong). No
    ledger yet: nothing was ingested. A ledger named by a Prefect Secret block (``[flows]
    secret_blocks``) is the flow's to open: the run tells.
    """
    if not manifests or any("://" in source for source in manifests):
        return []
    if settings.flows.secret_blocks.ledger_url:
        return []
    try:
        url = parse(settings.ledger.url)
        if url.sqlite and url.path is not None and not Path(url.path).is_file():
            return []
        ledger = open_ledger(url, create=False)
    except EidflowError:
        return []  # the run opens it again and says what is wrong
    found: list[Ingested] = []
    try:
        for source in manifests:
            try:
                data = load_input(source, settings)
            except EidflowError:
                return []
            earlier = ledger.manifest_seen(hashlib.sha256(data).hexdigest())
            if earlier is None:
                return []
            found.append(Ingested(source, earlier))
    finally:
        ledger.close()
    return found
