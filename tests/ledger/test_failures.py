"""Every ledger failure is one line with its exit code, and the next run hands off what this
one could not: the server gone in the middle of the claim (3), a full disk (3)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from app.cli import main
from eidflow.ledger import claims, db
from tests.ledger.helpers import eid

ROWS = 50


def manifest(path: Path) -> Path:
    lines = ["EID,Serial Number"] + [f"{eid(n)},SN{n:05d}" for n in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ingest(manifest_path: Path, ledger: str, out: Path) -> Result:
    return CliRunner().invoke(
        main, ["ingest", str(manifest_path), "--ledger", ledger, "--out", str(out)]
    )


def assert_one_line(result: Result, code: int, *expected: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("eidflow:")]
    assert len(lines) >= 1
    for text in expected:
        assert text in lines[-1], lines


class TcpProxy:
    """A loopback TCP forwarder to PostgreSQL that can be pulled out like a cable."""

    def __init__(self, port: int, listen_port: int = 0) -> None:
        self.target = ("127.0.0.1", port)
        self.listener = socket.create_server(("127.0.0.1", listen_port))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def pull(self) -> None:
        """The server is gone: every connection drops, new ones are refused."""
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.fixture
def pg_through_proxy(pg_url: str) -> Iterator[tuple[str, TcpProxy]]:
    proxy = TcpProxy(5432)
    yield pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"), proxy
    proxy.pull()


@pytest.mark.postgres
def test_the_server_gone_during_the_claim_is_one_line_exit_3(
    tmp_path: Path,
    pg_url: str,
    pg_through_proxy: tuple[str, TcpProxy],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxied, proxy = pg_through_proxy
    store = claims.write

    def server_gone(*args: object) -> None:
        proxy.pull()
        store(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(claims, "write", server_gone)
    result = ingest(manifest(tmp_path / "m.csv"), proxied, tmp_path / "run-1")
    assert_one_line(result, 3, "was lost", "Run again")
    assert not (tmp_path / "run-1" / "summary.json").exists()

    monkeypatch.setattr(claims, "write", store)
    again = ingest(tmp_path / "m.csv", pg_url, tmp_path / "run-2")  # the server is back
    assert again.exit_code == 0, again.output
    assert "50 accepted" in again.stdout


def test_a_full_disk_at_the_ledger_is_one_line_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    connect = db._sqlite_connect

    def small_disk(url: db.LedgerUrl) -> object:
        raw = connect(url)
        pages = raw.execute("PRAGMA page_count").fetchone()[0]
        raw.execute(f"PRAGMA max_page_count = {max(pages, 40) + 2}")
        return raw

    monkeypatch.setattr(db, "_sqlite_connect", small_disk)
    big = manifest(tmp_path / "m.csv")
    big.write_text(
        big.read_text() + "".join(f"{eid(n)},SN{n:05d}\n" for n in range(ROWS, 3000)),
        encoding="utf-8",
    )
    result = ingest(big, ledger, tmp_path / "run-1")
    assert_one_line(result, 3, "cannot write", "Free space")

    monkeypatch.setattr(db, "_sqlite_connect", connect)  # space again
    again = ingest(big, ledger, tmp_path / "run-2")
    assert again.exit_code == 0, again.output
    assert "3000 accepted" in again.stdout


def test_nothing_is_delivered_before_the_claims_written_in_the_background_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim's verdict comes out before its claims are written (the run writes its files
    meanwhile); the delivery begins only once they are committed, seen from another
    connection, and a failure while writing them leaves nothing delivered."""
    import sqlite3
    import time

    from app import pipeline
    from eidflow.ledger.sql import SqlLedger

    path = tmp_path / "ledger.db"
    store, start_delivery, emit = claims.write, SqlLedger.start_delivery, pipeline.emit_files
    seen: list[int] = []
    emitting = threading.Event()
    overlapped: list[bool] = []

    def emit_files(*args: object) -> object:
        emitting.set()
        return emit(*args)  # type: ignore[arg-type]

    def slow_store(*args: object) -> None:
        overlapped.append(emitting.wait(timeout=20))  # the run writes its files meanwhile
        store(*args)  # type: ignore[arg-type]

    def counting(ledger: SqlLedger, *args: object) -> None:
        with sqlite3.connect(path) as other:
            seen.append(other.execute("SELECT count(*) FROM claims").fetchone()[0])
        start_delivery(ledger, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(claims, "write", slow_store)
    monkeypatch.setattr(pipeline, "emit_files", emit_files)
    monkeypatch.setattr(SqlLedger, "start_delivery", counting)
    result = ingest(manifest(tmp_path / "m.csv"), f"sqlite:///{path}", tmp_path / "run-1")
    assert result.exit_code == 0, result.output
    assert overlapped == [True]  # the files were being written while the claims went in
    assert seen == [ROWS]  # and the delivery began after their commit
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT count(*) FROM claims").fetchone()[0] == ROWS

    def failing_store(*args: object) -> None:
        time.sleep(0.2)
        raise db.LedgerFull("the ledger cannot write: no space left.", todo="Free space.")

    monkeypatch.setattr(claims, "write", failing_store)
    manifest(tmp_path / "m2.csv").write_text(
        "EID,Serial Number\n" + "".join(f"{eid(n)},SX{n:05d}\n" for n in range(ROWS, 2 * ROWS)),
        encoding="utf-8",
    )
    failed = ingest(tmp_path / "m2.csv", f"sqlite:///{path}", tmp_path / "run-2")
    assert_one_line(failed, 3, "cannot write", "Free space")
    assert len(seen) == 1  # the delivery never began
    assert not (tmp_path / "run-2" / "summary.json").exists()
