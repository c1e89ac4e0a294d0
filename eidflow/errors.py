"""User-facing errors: each names what is wrong, where, and what to do; each maps to an exit code.

Anything that is not an :class:`EidflowError` is a bug in eidflow and may show a traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INPUT_UNREADABLE = 1  # the run finished, but at least one manifest could not be read
EXIT_USAGE = 2  # bad flags or configuration
EXIT_RUN_FAILED = (
    3  # the run stopped (ledger busy, delivery failed): nothing was handed off twice; rerun
)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class EidflowError(Exception):
    """An error a user can act on."""

    exit_code = EXIT_USAGE

    def __init__(self, what: str, *, todo: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.todo = todo

    def __str__(self) -> str:
        return f"{self.what} {self.todo}".strip()


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
        return f"{self.where}: {self.what} {self.todo}".strip()


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
