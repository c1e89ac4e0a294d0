"""A Microsoft Entra token endpoint on loopback, over HTTPS, for MSAL's client-credentials flow.

MSAL only talks to an ``https`` authority, so this serves a self-signed certificate for
``localhost`` and the ``entra_emulator`` fixture trusts it through ``REQUESTS_CA_BUNDLE``
(MSAL uses requests). It answers what MSAL asks of a tenant:

- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: the tenant's endpoints;
- ``POST /{tenant}/oauth2/v2.0/token`` with ``grant_type=client_credentials``: a bearer token
  for the app with the right secret, or with a client assertion (a JWT signed by the app's
  certificate, ``x5t`` its SHA-1 thumbprint); else 401 ``invalid_client`` with an AADSTS code
  and a trace id, as Entra does. An unknown tenant is 400 ``invalid_tenant``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from werkzeug.serving import WSGIRequestHandler, generate_adhoc_ssl_pair, make_server
from werkzeug.wrappers import Request, Response

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class AppCertificate:
    """An app registration's certificate: the private key PEM eidflow reads, and its thumbprint."""

    pem: str
    thumbprint: str  # SHA-1, hex, as the Entra portal shows it
    public_key: Any


def make_app_certificate(name: str = "eidflow-test-app") -> AppCertificate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    thumbprint = certificate.fingerprint(hashes.SHA1()).hex().upper()
    return AppCertificate(pem, thumbprint, key.public_key())


@dataclass
class EntraEmulator:
    """One tenant with one app registration; counts the tokens it issued."""

    tenant: str = "contoso.onmicrosoft.com"
    client_id: str = "11111111-2222-3333-4444-555555555555"
    client_secret: str = "Zx8~emulator-secret-q1w2e3"
    certificate: AppCertificate | None = None
    token: str = "entra-emulator-token"
    renewed_token: str = ""  # when set, the second and later tokens issued (a token renewed)
    issued: int = 0
    log: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""

    def start(self, folder: Path) -> EntraEmulator:
        cert, key = generate_adhoc_ssl_pair("localhost")
        self.ca_bundle = folder / "entra-emulator.pem"
        key_file = folder / "entra-emulator.key"
        self.ca_bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
        self._server = make_server(
            "127.0.0.1",
            0,
            self._wsgi,
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=(str(self.ca_bundle), str(key_file)),
        )
        self.url = f"https://localhost:{self._server.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()

    @Request.application  # type: ignore[misc]
    def _wsgi(self, request: Request) -> Response:
        self.log.append((request.method, request.path))
        tenant, _, rest = request.path.strip("/").partition("/")
        if tenant != self.tenant:
            return _json(
                400, _error("invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found.")
            )
        base = f"{self.url}/{tenant}"
        if request.method == "GET" and rest == "v2.0/.well-known/openid-configuration":
            return _json(
                200,
                {
                    "issuer": f"{base}/v2.0",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                    "jwks_uri": f"{base}/discovery/v2.0/keys",
                },
            )
        if request.method == "POST" and rest == "oauth2/v2.0/token":
            return self._token(request.form, f"{base}/oauth2/v2.0/token")
        return _json(404, _error("not_found", f"AADSTS900561: no endpoint {request.path}."))

    def _token(self, form: Any, endpoint: str) -> Response:
        if form.get("grant_type") != "client_credentials":
            return _json(400, _error("unsupported_grant_type", "AADSTS70003: not supported."))
        if form.get("client_id") != self.client_id:
            return _json(
                400,
                _error(
                    "unauthorized_client",
                    f"AADSTS700016: Application with identifier '{form.get('client_id')}' "
                    "was not found in the directory.",
                ),
            )
        if not self._authenticated(form, endpoint):
            return _json(
                401,
                _error(
                    "invalid_client",
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
                    "sent in the request is the client secret value, not the client secret ID.",
                ),
            )
        self.issued += 1
        token = self.renewed_token if self.renewed_token and self.issued > 1 else self.token
        return _json(
            200,
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": token,
            },
        )

    def _authenticated(self, form: Any, endpoint: str) -> bool:
        if "client_secret" in form:
            return bool(form["client_secret"] == self.client_secret)
        if form.get("client_assertion_type") != ASSERTION_TYPE or self.certificate is None:
            return False
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                self.certificate.public_key,
                algorithms=["RS256", "PS256"],
                audience=endpoint,
            )
        except jwt.PyJWTError:
            return False
        thumbprint = base64.urlsafe_b64decode(header.get("x5t", "") + "==").hex().upper()
        return thumbprint == self.certificate.thumbprint and claims.get("sub") == self.client_id


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def _error(code: str, description: str) -> dict[str, Any]:
    trace = hashlib.sha256(description.encode()).hexdigest()[:8]
    return {
        "error": code,
        "error_description": f"{description}\r\nTrace ID: {trace}\r\nTimestamp: 2026-11-27",
        "error_codes": [int(description[6:].split(":")[0])],
    }


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def entra_emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EntraEmulator]:
    """The emulator, with its certificate trusted by requests (and so by MSAL) for this test."""
    emulator = EntraEmulator(certificate=make_app_certificate()).start(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(emulator.ca_bundle))
    try:
        yield emulator
    finally:
        emulator.stop()
