"""The ``eidflow`` command line. Exit codes: 0 ok, 1 a manifest was unreadable, 2 usage, 3 run failed.

User mistakes are printed as one line each on stderr, never as a traceback.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import click

from eidflow.errors import (
    EXIT_INTERRUPTED,
    EXIT_RUN_FAILED,
    EXIT_USAGE,
    EidflowError,
    printable,
)

VOID = (
    "A run folder with summary.json is complete (its files count as handed off); one"
    " without it is void: the next run hands its EIDs off."
)


# Each command's module, imported only when the command runs (or --help lists it): a
# 20-row ``eidflow ingest`` does not pay for the Graph, Intune and answer commands' imports.
COMMANDS = {
    "ingest": "app.cli.ingest:ingest",
    "check": "app.cli.check:check",
    "history": "app.cli.questions:history",
    "show": "app.cli.questions:show",
    "resend": "app.cli.resend:resend",
    "void": "app.cli.void:void",
    "retire": "app.cli.retire:retire",
    "ledger": "app.cli.ledger:ledger_group",
    "automations": "app.cli.automations:automations_group",
    "schedules": "app.cli.schedules:schedules_group",
    "intune": "app.cli.intune:intune_group",
    "graph": "app.cli.graph_check:graph_group",
    "autopilot-csv": "app.cli.autopilot:autopilot_csv",
    "groups": "app.cli.groups:groups_group",
    "reconcile": "app.cli.reconcile:reconcile",
    "status": "app.cli.status:status",
    "pending": "app.cli.pending:pending",
    "operator-response": "app.cli.answers:operator_response",
    "serve": "flows.serve:serve",  # optional: left out where its imports fail
}


class EidflowGroup(click.Group):
    """Turns every :class:`EidflowError` into its message and exit code; so too a file
    that cannot be written (a full disk, permissions) and Ctrl-C, which stop a run.

    Subcommands are loaded from :data:`COMMANDS` when asked for (click's lazy group)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        module_name, attribute = COMMANDS[cmd_name].split(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            if cmd_name != "serve":
                raise
            return None
        command = getattr(module, attribute)
        self.add_command(command, cmd_name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EidflowError as error:
            click.echo(f"eidflow: {error}", err=True)
            ctx.exit(error.exit_code)
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            what = error.strerror or str(error)
            click.echo(
                printable(
                    f"eidflow: {where}{what}. The command stopped. {VOID} Free space or fix the"
                    " permissions, then run it again."
                ),
                err=True,
            )
            ctx.exit(EXIT_RUN_FAILED)
        except KeyboardInterrupt:
            click.echo(f"\neidflow: interrupted. {VOID}", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=EidflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(None, "-V", "--version", package_name="eidflow")
@click.option(
    "-v", "--verbose", count=True, help="Say more on stderr: -v what each step does, -vv debug."
)
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr (no warnings).")
def main(verbose: int, quiet: bool) -> None:
    """From eSIM PC shipment manifests to operator hand-off files and Entra static groups."""
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose contradict each other; give one.")
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO)[min(verbose, 1)]
    _log_to_stderr(logging.DEBUG if verbose > 1 else level)


def _log_to_stderr(level: int = logging.WARNING) -> None:
    """What eidflow's modules log for people (a new ledger, a dead run settled) goes to
    stderr as one line each, like its errors."""
    logger = logging.getLogger("eidflow")
    if not any(getattr(handler, "eidflow_cli", False) for handler in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(_OneLine("eidflow: %(message)s"))
        handler.eidflow_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level)


class _OneLine(logging.Formatter):
    """A log record as one line that shows as written (names in it are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


__all__ = ["EXIT_USAGE", "main"]
