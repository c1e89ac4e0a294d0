"""Settings for Microsoft Graph (``[graph]`` in eidflow.toml, ``EIDFLOW_GRAPH__*`` in the environment).

The client secret comes from the environment (``EIDFLOW_GRAPH__CLIENT_SECRET``) and is a
``SecretStr``: it never appears in a repr, a log line or an error. The group to fill is
``[entra] group_id``, kept in one place.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

GRAPH_RESOURCE = "https://graph.microsoft.com"  # the scope and @odata.id host, whatever base_url is


class GraphSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: str = ""
    client_id: str = ""
    client_secret: SecretStr | None = None
    certificate_path: Path | None = None  # PEM holding the private key (and the certificate)
    certificate_thumbprint: str = ""  # SHA-1 thumbprint of the certificate registered in Entra
    # A bearer token obtained elsewhere (a managed identity, ``az account get-access-token``);
    # used instead of MSAL when set. From the environment: EIDFLOW_GRAPH__ACCESS_TOKEN.
    access_token: SecretStr | None = None
    authority_host: str = "https://login.microsoftonline.com"
    base_url: str = GRAPH_RESOURCE  # where requests go; tests point it at the emulator
    timeout_seconds: float = 30.0
    max_attempts: int = 6  # per request, counting the first, on 429/503/504
    max_retry_wait_seconds: float = 120.0  # a Retry-After above this is capped
    apply_memberships: bool = False  # reconcile_pending adds members through Graph when true

    @property
    def configured(self) -> bool:
        """Enough is set to ask for a token."""
        if self.access_token is not None:
            return True
        has_credential = self.client_secret is not None or self.certificate_path is not None
        return bool(self.tenant_id and self.client_id and has_credential)
