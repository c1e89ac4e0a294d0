"""``eidflow ledger backup`` and ``eidflow ledger restore``."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.options import config_option, ledger_option, settings_from
from eidflow.ledger import LedgerUrl, parse


@click.group("ledger")
def ledger_group() -> None:
    """Back the ledger up, or restore it from a backup (SQLite; PostgreSQL: pg_dump)."""


def _ledger_url(config_file: Path | None, ledger_url: str | None) -> LedgerUrl:
    return parse(settings_from(config_file, ledger_url).ledger.url)


@ledger_group.command("backup")
@click.argument("file", type=click.Path(path_type=Path))
@ledger_option
@config_option
def backup_command(file: Path, ledger_url: str | None, config_file: Path | None) -> None:
    """Copy the ledger to FILE (a new file), while runs may go on; the copy is checked."""
    from eidflow.ledger import backup

    url = _ledger_url(config_file, ledger_url)
    written = backup.backup(url, file)
    click.echo(f"ledger {url.where} backed up to {written} ({written.stat().st_size:,} bytes)")


@ledger_group.command("restore")
@click.argument("file", type=click.Path(path_type=Path))
@ledger_option
@config_option
def restore_command(file: Path, ledger_url: str | None, config_file: Path | None) -> None:
    """Replace the ledger with the backup FILE (the replaced ledger is kept beside it)."""
    from eidflow.ledger import backup

    url = _ledger_url(config_file, ledger_url)
    kept = backup.restore(url, file)
    click.echo(
        f"ledger {url.where} restored from {file}"
        + (f"; the ledger it replaced is kept as {kept}" if kept else "")
        + ". Runs made after this backup are unknown to it now: the next ingest refuses an"
        " output root holding them until you point it at the right ledger."
    )
