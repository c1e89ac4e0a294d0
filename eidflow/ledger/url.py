"""Ledger URLs: ``sqlite:///path`` or ``postgresql://user@host:port/db?options``.

Parsed here rather than by SQLAlchemy, whose import costs a third of a second that a
20-row run need not pay. A relative SQLite path is resolved against a base folder:
the folder of the eidflow.toml that names it, so that a ledger is the same one from
whichever folder eidflow runs (``resolve``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from eidflow.errors import ConfigError

SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}
TODO_FORM = (
    "Use sqlite:///path/to/ledger.db or postgresql://user@host:5432/db (the port is a number, "
    "an IPv6 host goes in [brackets])."
)


@dataclass(frozen=True)
class LedgerUrl:
    """A parsed ledger URL. ``path``: the SQLite file; ``conninfo``: the libpq URI."""

    backend: str  # "sqlite" or "postgresql"
    text: str  # as the user wrote it (resolved), for messages: see ``shown``
    path: Path | None = None
    conninfo: str = ""

    @property
    def sqlite(self) -> bool:
        return self.backend == "sqlite"

    @property
    def shown(self) -> str:
        """The URL as the user wrote it, its password replaced by ``***``."""
        return masked(self.text)

    @property
    def where(self) -> str:
        """The ledger in messages: the file of a SQLite ledger, the masked URL otherwise."""
        return str(self.path) if self.path is not None else self.shown


def parse(url: str, base: Path | None = None) -> LedgerUrl:
    """Parse and check ``url``; a relative SQLite path is taken relative to ``base``
    (the current folder when None). Raises ConfigError naming the URL."""
    scheme, separator, _ = url.partition("://")
    backend = SCHEMES.get(scheme.split("+", 1)[0].lower()) if separator else None
    if separator and backend is None and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise ConfigError(
            f"ledger URL {masked(url)!r}: unsupported database {scheme.split('+', 1)[0]!r}.",
            todo="Use sqlite:///path or postgresql://user@host/db.",
        )
    if backend is None:
        raise ConfigError(f"ledger URL {masked(url)!r} is not a valid URL.", todo=TODO_FORM)
    if backend == "sqlite":
        return _sqlite(url, base)
    return _postgresql(url)


def _sqlite(url: str, base: Path | None) -> LedgerUrl:
    # sqlite:///relative/path, sqlite:////absolute/path (SQLAlchemy's form).
    rest = url.partition("://")[2]
    if not rest.startswith("/") or rest.strip("/") in ("", ":memory:"):
        raise ConfigError(
            f"ledger URL {url!r} names no file: an in-memory ledger forgets every hand-off.",
            todo="Use sqlite:///path/to/ledger.db.",
        )
    raw = unquote(rest[1:].split("?", 1)[0])
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    path = Path(_normalised(path))
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(
            f"ledger {path}: folder {folder} does not exist.",
            todo="Create it, or point --ledger elsewhere.",
        )
    return LedgerUrl("sqlite", f"sqlite:///{path}", path=path)


def _normalised(path: Path) -> str:
    try:
        return str(path.resolve())
    except OSError:  # a symlink loop: keep it as written, opening it will say what is wrong
        return str(path.absolute())


def _postgresql(url: str) -> LedgerUrl:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
        host = parts.hostname
    except ValueError:
        raise ConfigError(
            f"ledger URL {masked(url)!r} is not a valid URL.", todo=TODO_FORM
        ) from None
    netloc = parts.netloc
    if netloc.endswith(":") or (host is None and "@" in netloc):
        raise ConfigError(f"ledger URL {masked(url)!r} is not a valid URL.", todo=TODO_FORM)
    # libpq takes the URI itself; only the scheme is made its own (postgresql+psycopg://).
    conninfo = "postgresql://" + url.partition("://")[2]
    return LedgerUrl("postgresql", "postgresql://" + url.partition("://")[2], conninfo=conninfo)


def masked(url: str) -> str:
    """A URL that may not parse, with its password (if any) replaced by ``***``."""
    scheme, separator, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not (separator and at and ":" in credentials):
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite ledger file."""
    return "sqlite:///" + quote(str(path), safe="/:._-~")
