"""S3 on loopback for tests: moto's standalone server, and a proxy that can misbehave.

Use from a conftest or test module::

    from tests.s3_server import aws_credentials, moto_server, s3_bucket, s3_endpoint  # noqa: F401

- ``moto_server`` (session): a ``ThreadedMotoServer`` on 127.0.0.1, a free port.
- ``aws_credentials``: dummy keys and region in the environment, no profile or config file.
- ``s3_endpoint``: the server's URL, its state reset for this test.
- ``s3_bucket``: ``S3Settings`` for a fresh bucket on that server (path-style, us-east-1).
- ``s3_proxy``: an :class:`S3Proxy` in front of the server; ``s3_proxy.settings`` points at it.

boto3 talks HTTP to these servers exactly as to AWS; nothing in boto3 is patched.
"""

from __future__ import annotations

import collections
import http.client
import itertools
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from eidflow.s3 import S3Settings

REGION = "us-east-1"
_bucket_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The standard AWS chain finds these dummy keys, and nothing from the machine."""
    empty = tmp_path_factory.mktemp("aws") / "none"
    empty.write_text("")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def s3_endpoint(moto_server: str, aws_credentials: None) -> str:
    connection = http.client.HTTPConnection(urlsplit(moto_server).netloc, timeout=10)
    connection.request("POST", "/moto-api/reset")
    connection.getresponse().read()
    connection.close()
    return moto_server


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> S3Settings:
    """Settings for a new, empty bucket (moto's state is reset for each test)."""
    bucket = f"eidflow-test-{next(_bucket_numbers)}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION).create_bucket(Bucket=bucket)
    return S3Settings(
        bucket=bucket, prefix="handoff", region=REGION, endpoint_url=s3_endpoint, max_attempts=2
    )


class S3Proxy:
    """A forwarding HTTP proxy to the S3 server that fails or corrupts on request.

    - ``fail_puts_after``: after this many PUTs forwarded, answer every further PUT with
      ``fail_status`` (or, with ``fail_status=0``, close the connection without a reply);
      ``fail_limit`` failures at most (None: for good). Other requests pass.
    - ``corrupt_put_bodies``: flip the last byte of every PUT body (headers untouched).
    - ``replace_checksum``: rewrite the ``x-amz-checksum-sha256`` a PUT sends.
    - ``deny_reads``: answer GET and HEAD with 403 AccessDenied.
    - ``fail_reads_of``: answer GETs of objects whose key ends so with 503 SlowDown, once
      ``fail_reads_after`` of them have passed (S3 throttling, a passing failure).

    ``gets`` counts the GETs of each object path (``/bucket/key``) it forwarded.

    It also does what S3 does and moto does not: a copy whose source no longer has the
    ETag of ``x-amz-copy-source-if-match`` is answered 412 PreconditionFailed.
    """

    def __init__(self, target: S3Settings) -> None:
        self.upstream = urlsplit(target.endpoint_url).netloc
        self.fail_puts_after: int | None = None
        self.fail_status = 500
        self.fail_code = "InternalError"  # the S3 error code in the failure's body
        self.fail_limit: int | None = None  # answer this many failures, then pass through again
        self.corrupt_put_bodies = False
        self.replace_checksum = ""
        self.deny_reads = False  # answer GET and HEAD with 403 AccessDenied
        self.fail_reads_of = ""  # the end of a key whose GETs fail with 503 SlowDown
        self.fail_reads_after = 0  # ...once this many GETs of it have passed
        self.puts = 0
        self.failures = 0
        self.gets: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.settings = target.model_copy(update={"endpoint_url": self.url})

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> S3Proxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def heal(self) -> None:
        self.fail_puts_after = None
        self.fail_limit = None
        self.corrupt_put_bodies = False
        self.replace_checksum = ""
        self.fail_reads_of = ""

    def should_fail_read(self, path: str) -> bool:
        if not self.fail_reads_of or not urlsplit(path).path.endswith(self.fail_reads_of):
            return False
        with self._lock:
            self.fail_reads_after -= 1
            return self.fail_reads_after < 0

    def should_fail(self, method: str) -> bool:
        if method != "PUT":
            return False
        with self._lock:
            failing = self.fail_puts_after is not None and self.puts >= self.fail_puts_after
            if failing and (self.fail_limit is None or self.failures < self.fail_limit):
                self.failures += 1
                return True
            self.puts += 1
            return False


def _handler(proxy: S3Proxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if proxy.deny_reads and self.command in ("GET", "HEAD"):
                self._answer(403, [], b"<Error><Code>AccessDenied</Code></Error>")
                return
            if self.command == "GET" and "?" not in self.path:
                with proxy._lock:
                    proxy.gets[unquote(self.path)] += 1
            if self.command == "GET" and proxy.should_fail_read(self.path):
                self._answer(503, [], b"<Error><Code>SlowDown</Code></Error>")
                return
            if proxy.should_fail(self.command):
                if proxy.fail_status == 0:
                    self.close_connection = True
                    return
                error = f"<Error><Code>{proxy.fail_code}</Code></Error>".encode()
                self._answer(proxy.fail_status, [], error)
                return
            if self.command == "PUT" and self._copy_source_changed():
                self._answer(412, [], b"<Error><Code>PreconditionFailed</Code></Error>")
                return
            headers = {name: value for name, value in self.headers.items()}
            if self.command == "PUT":
                if proxy.corrupt_put_bodies and body:
                    body = body[:-1] + bytes([body[-1] ^ 0x01])
                if proxy.replace_checksum and "x-amz-checksum-sha256" in {
                    h.lower() for h in headers
                }:
                    headers = {
                        name: proxy.replace_checksum
                        if name.lower() == "x-amz-checksum-sha256"
                        else value
                        for name, value in headers.items()
                    }
            upstream = http.client.HTTPConnection(proxy.upstream, timeout=30)
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                self._answer(response.status, response.getheaders(), data)
            finally:
                upstream.close()

        def _copy_source_changed(self) -> bool:
            wanted = self.headers.get("x-amz-copy-source-if-match")
            source = self.headers.get("x-amz-copy-source")
            if not (wanted and source):
                return False
            bucket, _, key = unquote(source.lstrip("/")).partition("/")
            client = boto3.client("s3", endpoint_url=f"http://{proxy.upstream}", region_name=REGION)
            try:
                return client.head_object(Bucket=bucket, Key=key).get("ETag") != wanted
            except ClientError:
                return True

        def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in {
                    "content-length",
                    "transfer-encoding",
                    "connection",
                    "server",
                    "date",
                }:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

    return Handler


@pytest.fixture
def s3_proxy(s3_bucket: S3Settings) -> Iterator[S3Proxy]:
    """A proxy in front of the moto server; ``s3_proxy.settings`` sends boto3 through it."""
    proxy = S3Proxy(s3_bucket).start()
    try:
        yield proxy
    finally:
        proxy.stop()
