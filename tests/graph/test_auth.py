"""Credentials: what is missing is named; secrets never show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msal
import pytest

from eidflow.errors import ConfigError
from eidflow.graph import GraphAuthError, GraphSettings, msal_token_provider
from eidflow.settings import load_settings

SECRET = "Zx8~not-a-real-secret-q1w2e3"


def test_secret_comes_from_the_environment_and_never_prints(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EIDFLOW_GRAPH__CLIENT_SECRET", SECRET)
    monkeypatch.setenv("EIDFLOW_GRAPH__TENANT_ID", "contoso.onmicrosoft.com")
    monkeypatch.setenv("EIDFLOW_GRAPH__CLIENT_ID", "11111111-2222-3333-4444-555555555555")
    config = tmp_path / "eidflow.toml"
    config.write_text('[graph]\nbase_url = "https://graph.microsoft.us"\n')
    settings = load_settings(config)
    assert settings.graph.base_url == "https://graph.microsoft.us"
    assert settings.graph.client_secret is not None
    assert settings.graph.client_secret.get_secret_value() == SECRET
    assert settings.graph.configured
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        ({}, "tenant_id and client_id"),
        ({"tenant_id": "t", "client_id": "c"}, "neither a client secret nor a certificate"),
        (
            {"tenant_id": "t", "client_id": "c", "certificate_path": "/x.pem"},
            "certificate_thumbprint",
        ),
        (
            {
                "tenant_id": "t",
                "client_id": "c",
                "certificate_path": "/nonexistent/x.pem",
                "certificate_thumbprint": "AB",
            },
            "cannot read the certificate",
        ),
    ],
)
def test_incomplete_credentials_are_config_errors(fields: dict[str, Any], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        msal_token_provider(GraphSettings.model_validate(fields))


class RefusingApp:
    def __init__(self, client_id: str, authority: str, client_credential: Any) -> None:
        self.credential = client_credential

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, str]:
        assert scopes == ["https://graph.microsoft.com/.default"]
        return {
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.\nTrace ID: x",
        }


def test_refused_token_names_the_app_and_the_aadsts_code_not_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(msal, "ConfidentialClientApplication", RefusingApp)
    settings = GraphSettings(tenant_id="t", client_id="app-1", client_secret=SECRET)  # type: ignore[arg-type]
    token = msal_token_provider(settings)
    with pytest.raises(GraphAuthError) as caught:
        token()
    message = str(caught.value)
    assert "app-1" in message and "AADSTS7000215" in message
    assert SECRET not in message and "Trace ID" not in message
