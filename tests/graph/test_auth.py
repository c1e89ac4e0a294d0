"""Credentials: what is missing is named; secrets never show; MSAL against a loopback Entra."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.settings import load_settings
from eidflow import schema
from eidflow.errors import ConfigError
from eidflow.graph import (
    GraphAuthError,
    GraphSettings,
    client_from_settings,
    list_entra_devices,
    msal_token_provider,
)
from tests.entra_emulator import EntraEmulator, make_app_certificate
from tests.graph_emulator import GraphEmulator

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


def emulator_settings(emulator: EntraEmulator, **fields: Any) -> GraphSettings:
    return GraphSettings.model_validate(
        {
            "tenant_id": emulator.tenant,
            "client_id": emulator.client_id,
            "authority_host": emulator.url,
            **fields,
        }
    )


def test_msal_gets_a_token_with_the_secret_and_caches_it(entra_emulator: EntraEmulator) -> None:
    token = msal_token_provider(
        emulator_settings(entra_emulator, client_secret=entra_emulator.client_secret)
    )
    assert token() == entra_emulator.token
    assert token() == entra_emulator.token
    assert entra_emulator.issued == 1  # the second answer came from MSAL's cache


def test_msal_gets_a_token_with_the_certificate(
    entra_emulator: EntraEmulator, tmp_path: Path
) -> None:
    assert entra_emulator.certificate is not None
    key = tmp_path / "app.pem"
    key.write_text(entra_emulator.certificate.pem)
    settings = emulator_settings(
        entra_emulator,
        certificate_path=str(key),
        certificate_thumbprint=entra_emulator.certificate.thumbprint,
    )
    assert msal_token_provider(settings)() == entra_emulator.token
    assert entra_emulator.issued == 1


def test_a_wrong_secret_is_refused_by_entra_and_named_without_the_secret(
    entra_emulator: EntraEmulator,
) -> None:
    token = msal_token_provider(emulator_settings(entra_emulator, client_secret=SECRET))
    with pytest.raises(GraphAuthError) as caught:
        token()
    message = str(caught.value)
    assert entra_emulator.client_id in message and "AADSTS7000215" in message
    assert SECRET not in message and "Trace ID" not in message
    assert entra_emulator.issued == 0


def test_a_certificate_other_than_the_registered_one_is_refused(
    entra_emulator: EntraEmulator, tmp_path: Path
) -> None:
    stranger = make_app_certificate("not-the-app")
    key = tmp_path / "stranger.pem"
    key.write_text(stranger.pem)
    settings = emulator_settings(
        entra_emulator, certificate_path=str(key), certificate_thumbprint=stranger.thumbprint
    )
    with pytest.raises(GraphAuthError, match="invalid_client"):
        msal_token_provider(settings)()


def entra_devices_through_graph(entra: EntraEmulator, graph: GraphEmulator) -> list[str]:
    """The Entra object ids the client lists from Graph, with a token MSAL got from Entra."""
    graph.devices = [
        {"id": "obj-1", "deviceId": "AAAAAAAA-1111-4111-8111-111111111111", "displayName": "PC"}
    ]
    settings = emulator_settings(entra, client_secret=entra.client_secret, base_url=graph.base_url)
    with client_from_settings(settings) as client:
        return list(list_entra_devices(client)[schema.ENTRA_OBJECT_ID_COL])


def test_graph_requests_carry_the_token_entra_issued(
    entra_emulator: EntraEmulator, graph_emulator: GraphEmulator
) -> None:
    """Both halves over HTTP: MSAL gets the token from Entra, Graph accepts only that one."""
    graph_emulator.token = entra_emulator.token
    assert entra_devices_through_graph(entra_emulator, graph_emulator) == ["obj-1"]
    assert entra_emulator.issued == 1


def test_a_token_graph_finds_expired_is_renewed_through_entra_not_msal_s_cache(
    entra_emulator: EntraEmulator, graph_emulator: GraphEmulator
) -> None:
    """MSAL would answer the expired token from its cache until its own clock says so: the
    client asks Entra for a new one, once, and Graph takes it."""
    entra_emulator.renewed_token = "entra-emulator-token-2"
    graph_emulator.expired_tokens = {entra_emulator.token}
    graph_emulator.token = entra_emulator.renewed_token
    assert entra_devices_through_graph(entra_emulator, graph_emulator) == ["obj-1"]
    assert entra_emulator.issued == 2
    assert len(graph_emulator.log) == 2


def test_msal_renews_on_request(entra_emulator: EntraEmulator) -> None:
    token = msal_token_provider(
        emulator_settings(entra_emulator, client_secret=entra_emulator.client_secret)
    )
    entra_emulator.renewed_token = "entra-emulator-token-2"
    assert token() == entra_emulator.token
    assert token(renew=True) == "entra-emulator-token-2"
    assert token() == "entra-emulator-token-2"  # the new one is what MSAL's cache holds now
    assert entra_emulator.issued == 2
