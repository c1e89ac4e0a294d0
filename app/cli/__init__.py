"""The ``eidflow`` command line. Exit codes: 0 ok, 1 a manifest was unreadable, 2 usage, 3 run failed.

User mistakes are printed as one line each on stderr, never as a traceback.
"""

from __future__ import annotations

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


class EidflowGroup(click.Group):
    """Turns every :class:`EidflowError` into its message and exit code; so too a file
    that cannot be written (a full disk, permissions) and Ctrl-C, which stop a run."""

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


def _register_optional_commands() -> None:
    """Commands that live beside the code they drive."""
    from app.cli.answers import operator_response
    from app.cli.automations import automations_group
    from app.cli.autopilot import autopilot_csv
    from app.cli.graph_check import graph_group
    from app.cli.groups import groups_group
    from app.cli.ingest import ingest
    from app.cli.intune import intune_group
    from app.cli.ledger import ledger_group
    from app.cli.pending import pending
    from app.cli.questions import history, show
    from app.cli.reconcile import reconcile
    from app.cli.resend import resend
    from app.cli.status import status

    for command in (
        ingest,
        history,
        show,
        resend,
        ledger_group,
        automations_group,
        intune_group,
        graph_group,
        autopilot_csv,
        groups_group,
        reconcile,
        status,
        pending,
    ):
        main.add_command(command)
    main.add_command(operator_response)
    try:
        from flows.serve import serve
    except ImportError:
        pass
    else:
        main.add_command(serve)


_register_optional_commands()

__all__ = ["EXIT_USAGE", "main"]
