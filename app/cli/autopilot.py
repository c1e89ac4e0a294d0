"""``eidflow autopilot-csv``: Windows Autopilot import files from manifests with hardware hashes.

A PC registered in Autopilot has an Entra device object before its first boot, so the
static eSIM group can hold it before it is unboxed (docs/groups.md: "Autopilot: in the group
before first boot"). Nothing here touches the ledger: the import files are for a person to upload,
or for the OEM's or reseller's registration, and importing one twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.options import config_option
from eidflow.errors import EXIT_INPUT_UNREADABLE, ConfigError, InputError, printable


@click.command("autopilot-csv")
@click.argument("manifests", nargs=-1, required=True)
@click.option(
    "--group-tag",
    default="",
    help="The Autopilot group tag for every device (a dynamic group or profile can key on it).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="A new or empty folder for the import files and autopilot-decisions.csv.",
)
@config_option
@click.option(
    "--oem-profile", help="Read the manifests with this [parsers.profiles.NAME] of eidflow.toml."
)
def autopilot_csv(
    manifests: tuple[str, ...],
    group_tag: str,
    out_dir: Path,
    config_file: Path | None,
    oem_profile: str | None,
) -> None:
    """Write Autopilot device import files (500 devices each) from MANIFEST files that carry
    hardware hashes; every row's verdict goes to autopilot-decisions.csv."""
    import pandas as pd

    import parsers
    from app.pipeline import load_input, shown_name
    from app.settings import load_settings
    from eidflow import schema
    from exporters import autopilot

    if not autopilot.plain_field(group_tag):
        raise ConfigError(
            f"--group-tag {group_tag!r}: a group tag goes into the import file unquoted, in"
            " ANSI: no comma, no quote, printable ASCII only.",
            todo="Choose another group tag.",
        )
    _check_out(out_dir)
    settings = load_settings(config_file)
    frames: list[pd.DataFrame] = []
    unreadable = 0
    for source in manifests:
        try:
            read = parsers.read_manifest(
                source,
                load_input(source, settings),
                settings.parsers,
                profile=oem_profile,
                extra=schema.AUTOPILOT_FIELDS,
            )
        except InputError as error:
            error.file = shown_name(source) if error.file == source else error.file
            click.echo(f"eidflow: {error}", err=True)
            unreadable += 1
            continue
        if not (read.rows[schema.HARDWARE_HASH] != "").any() and len(read.rows):
            click.echo(
                printable(
                    f"eidflow: {source}: no hardware hash column (or it is empty): its"
                    f" {len(read.rows)} row(s) are listed as hardware_hash_missing. Ask the OEM"
                    " for the manifest with hardware hashes ('Hardware Hash' column)."
                ),
                err=True,
            )
        frames.append(read.rows)
    if not frames:
        raise SystemExit(EXIT_INPUT_UNREADABLE)
    rows = pd.concat(frames, ignore_index=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    decided, outputs = autopilot.write_import_files(autopilot.judge(rows), group_tag, out_dir)
    autopilot.write_decisions(decided, out_dir)
    counts = decided[schema.STATUS].value_counts()
    line = (
        f"{len(decided)} row(s) read: {counts.get('included', 0)} written in {len(outputs)} file(s)"
    )
    for verdict in ("rejected", "duplicate", "conflict"):
        if counts.get(verdict, 0):
            line += f", {counts[verdict]} {verdict}"
    click.echo(printable(f"autopilot: {line}; in {out_dir} (see {autopilot.DECISIONS_FILE})"))
    if unreadable:
        raise SystemExit(EXIT_INPUT_UNREADABLE)


def _check_out(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ConfigError(
            f"--out {out_dir}: is not empty (or not a folder).",
            todo="Give a new or empty folder; each set of import files gets its own.",
        )
