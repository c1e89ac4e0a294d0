"""Bearer tokens for Graph: MSAL client credentials (secret or certificate), or a fixed token.

A token provider is called before each request, and MSAL answers from its cache until
the token nears expiry by its own clock. When Graph says a token is expired all the same
(a clock off, a token revoked), the client asks once with ``renew=True``: a new token from
Entra, past the cache. Tokens and secrets are never logged.
"""

from __future__ import annotations

from typing import Any, Protocol

from eidflow.errors import ConfigError
from eidflow.graph.config import GRAPH_RESOURCE, GraphSettings


class TokenProvider(Protocol):
    """Answers a bearer token for Graph; with ``renew``, a new one rather than a cached one."""

    def __call__(self, *, renew: bool = False) -> str: ...


SCOPES = [f"{GRAPH_RESOURCE}/.default"]


class GraphAuthError(ConfigError):
    """Entra refused the app's credentials."""


def static_token(token: str) -> TokenProvider:
    """A provider that always answers ``token`` (tests, or a token obtained elsewhere):
    renewing it gives the same token, which Graph refuses again."""

    def fixed(*, renew: bool = False) -> str:
        return token

    return fixed


def msal_token_provider(settings: GraphSettings) -> TokenProvider:
    """Client-credentials flow for the app registration named in ``settings``."""
    import msal  # imported here: msal pulls in cryptography, ~0.2 s

    app = msal.ConfidentialClientApplication(
        settings.client_id,
        authority=f"{settings.authority_host.rstrip('/')}/{settings.tenant_id}",
        client_credential=_credential(settings),
        # The authority is the one configured, not looked up at login.microsoftonline.com:
        # a sovereign cloud's or a test emulator's host is used as given.
        instance_discovery=False,
    )

    def token(*, renew: bool = False) -> str:
        if renew:  # MSAL would answer the cached token until its own clock says it expired
            for cached in list(app.token_cache.search(app.token_cache.CredentialType.ACCESS_TOKEN)):
                app.token_cache.remove_at(cached)
        answer: dict[str, Any] = app.acquire_token_for_client(scopes=SCOPES) or {}
        if "access_token" not in answer:
            # error_description names the problem (AADSTS code) and holds no secret.
            raise GraphAuthError(
                f"Entra refused a token for app {settings.client_id} in tenant "
                f"{settings.tenant_id}: {answer.get('error', 'unknown error')}: "
                f"{answer.get('error_description', '').splitlines()[0] if answer.get('error_description') else ''}",
                todo="Check [graph] tenant_id, client_id and the secret or certificate.",
            )
        return str(answer["access_token"])

    return token


def _credential(settings: GraphSettings) -> str | dict[str, str]:
    if not (settings.tenant_id and settings.client_id):
        raise ConfigError(
            "[graph] needs tenant_id and client_id.",
            todo="Set them in eidflow.toml or EIDFLOW_GRAPH__TENANT_ID / EIDFLOW_GRAPH__CLIENT_ID.",
        )
    if settings.certificate_path is not None:
        if not settings.certificate_thumbprint:
            raise ConfigError(
                "[graph] certificate_path is set but certificate_thumbprint is not.",
                todo="Add the SHA-1 thumbprint shown in the app registration.",
            )
        try:
            private_key = settings.certificate_path.read_text()
        except OSError as error:
            raise ConfigError(
                f"{settings.certificate_path}: cannot read the certificate ({error.strerror}).",
                todo="Check [graph] certificate_path.",
            ) from None
        return {"private_key": private_key, "thumbprint": settings.certificate_thumbprint}
    if settings.client_secret is None:
        raise ConfigError(
            "[graph] has neither a client secret nor a certificate.",
            todo="Set EIDFLOW_GRAPH__CLIENT_SECRET, or certificate_path and certificate_thumbprint.",
        )
    return settings.client_secret.get_secret_value()
