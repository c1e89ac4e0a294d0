"""The SM-DP+ server name: one bare FQDN, IDNA, checked before any call."""

from __future__ import annotations

import pytest

from eidflow.intune.server import InvalidServer, check_server


@pytest.mark.parametrize(
    ("given", "configured"),
    [
        ("smdp.example.com", "smdp.example.com"),
        ("  SMDP.Example.COM ", "smdp.example.com"),
        ("rsp-0001.oberthur.net", "rsp-0001.oberthur.net"),
        ("smdp.bücher.example", "smdp.xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_a_bare_fqdn_is_kept_in_ascii_lower_case(given: str, configured: str) -> None:
    assert check_server(given) == configured


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("", "no server name"),
        ("https://smdp.example.com", "no scheme"),
        ("HTTPS:smdp.example.com", "no scheme"),
        ("smdp.example.com/es9plus", "no path"),
        ("smdp.example.com:443", "no port"),
        ("smdp.example.com, smdp2.example.com", "exactly one server"),
        ("smdp.example.com;smdp2.example.com", "exactly one server"),
        ("smdp.example.com smdp2.example.com", "exactly one server"),
        ("smdp", "not a fully qualified name"),
        ("smdp..example.com", "label"),
        ("-smdp.example.com", "label"),
        ("smdp_1.example.com", "label"),
        ("a" * 64 + ".example.com", "label"),
        ("10.0.0.1", "IP address"),
        ("smdp.example.com.", "trailing dot"),
        ("user@smdp.example.com", "no user name"),
        ("[::1]", "no port"),
        ("smdp.exa\u200bmple.com", "invisible character (U+200B)"),
        ("\u0301smdp.example.com", "international host name"),
        ("xn--zz.example.com", "international host name"),
    ],
)
def test_anything_else_is_refused_naming_the_fault(given: str, says: str) -> None:
    with pytest.raises(InvalidServer) as caught:
        check_server(given, where="[[operators]] 'contoso' smdp_server")
    message = str(caught.value)
    assert says in message
    assert message.startswith("[[operators]] 'contoso' smdp_server")
    assert "\n" not in message
