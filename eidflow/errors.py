"""User-facing errors: each names what is wrong, where, and what to do; each maps to an exit code.

Anything that is not an :class:`EidflowError` is a bug in eidflow and may show a traceback.
Every message is one line that shows as written: the names and texts it carries (a file
name, a server's answer) are passed through :func:`printable`.
"""

from __future__ import annotations

import re

EXIT_OK = 0
EXIT_INPUT_UNREADABLE = 1  # the run finished, but at least one manifest could not be read
EXIT_USAGE = 2  # bad flags or configuration
EXIT_RUN_FAILED = (
    3  # the run stopped (ledger busy, delivery failed): nothing was handed off twice; rerun
)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


# What would break a one-line message or change how a terminal shows it: C0 controls (line
# breaks, ESC of ANSI sequences), DEL, C1 controls (CSI, NEL), the bidirectional marks,
# embeddings, overrides and isolates (U+202E shows what follows reversed), line separators.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    r"""``text`` with those characters escaped as Python writes them (``\n``, ``\x1b``, ``\u202e``).

    >>> print(printable("ship.csv\neidflow: ok\x1b[2J\u202e"))
    ship.csv\neidflow: ok\x1b[2J\u202e
    """
    return _UNPRINTABLE.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    return found.group().encode("unicode_escape").decode("ascii")


class EidflowError(Exception):
    """An error a user can act on."""

    exit_code = EXIT_USAGE

    def __init__(self, what: str, *, todo: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.todo = todo

    def __str__(self) -> str:
        return printable(f"{self.what} {self.todo}".strip())


class ConfigError(EidflowError):
    """The command line or eidflow.toml is wrong."""


class InputError(EidflowError):
    """An input file (manifest, inventory, export) cannot be used.

    ``file``, ``sheet`` and ``row`` say where, as a person would find it. ``transient``:
    the file may well be fine and reading it failed for a passing reason (the network,
    the storage service): reading it again later may succeed.
    """

    exit_code = EXIT_INPUT_UNREADABLE

    def __init__(
        self,
        file: str,
        what: str,
        *,
        todo: str = "",
        sheet: str = "",
        row: int | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(what, todo=todo)
        self.file = file
        self.sheet = sheet
        self.row = row
        self.transient = transient

    @property
    def where(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return printable(f"{self.where}: {self.what} {self.todo}".strip())


class ManifestError(InputError):
    """A manifest could not be read; the run goes on with the other manifests."""


class LedgerBusy(EidflowError):
    """Another run holds the ledger and this one cannot wait."""

    exit_code = EXIT_RUN_FAILED


class LedgerLost(EidflowError):
    """The connection to a database server ledger was lost while a run used it."""

    exit_code = EXIT_RUN_FAILED


class LedgerFull(EidflowError):
    """The ledger cannot write (a full disk, an I/O error): the run stopped, nothing handed off."""

    exit_code = EXIT_RUN_FAILED


class RunLost(EidflowError):
    """Another run took this one for dead (PostgreSQL: its session was lost) and settled it."""

    exit_code = EXIT_RUN_FAILED


class DeliveryError(EidflowError):
    """Hand-off files could not be delivered; the ledger shows them undelivered."""

    exit_code = EXIT_RUN_FAILED
