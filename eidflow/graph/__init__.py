"""Microsoft Graph: Intune and Entra device inventory, static-group membership.

Names are imported on first use (PEP 562): reading the settings (``GraphSettings``) does
not pay for httpx, MSAL and pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eidflow.graph.auth import GraphAuthError, TokenProvider, msal_token_provider, static_token
    from eidflow.graph.client import GraphAccessDenied, GraphClient, GraphError
    from eidflow.graph.config import GraphSettings
    from eidflow.graph.devices import list_entra_devices, list_managed_devices
    from eidflow.graph.membership import MembershipResult, add_members, current_members

_WHERE = {
    "GraphAuthError": "auth",
    "TokenProvider": "auth",
    "msal_token_provider": "auth",
    "static_token": "auth",
    "GraphAccessDenied": "client",
    "GraphClient": "client",
    "GraphError": "client",
    "GraphSettings": "config",
    "list_entra_devices": "devices",
    "list_managed_devices": "devices",
    "MembershipResult": "membership",
    "add_members": "membership",
    "current_members": "membership",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"eidflow.graph.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'eidflow.graph' has no attribute {name!r}")


__all__ = [
    "GraphAccessDenied",
    "GraphAuthError",
    "GraphClient",
    "GraphError",
    "GraphSettings",
    "MembershipResult",
    "TokenProvider",
    "add_members",
    "client_from_settings",
    "current_members",
    "list_entra_devices",
    "list_managed_devices",
    "msal_token_provider",
    "static_token",
]


def client_from_settings(
    settings: GraphSettings, token: TokenProvider | None = None
) -> GraphClient:
    """A client for ``settings``: MSAL, unless ``token`` or ``settings.access_token`` is given."""
    from eidflow.graph.auth import msal_token_provider, static_token
    from eidflow.graph.client import GraphClient

    if token is None and settings.access_token is not None:
        token = static_token(settings.access_token.get_secret_value())
    return GraphClient(
        token or msal_token_provider(settings),
        base_url=settings.base_url,
        timeout_seconds=settings.timeout_seconds,
        max_attempts=settings.max_attempts,
        max_retry_wait_seconds=settings.max_retry_wait_seconds,
    )
