"""The SM-DP+ server name an eSIM policy carries: one bare FQDN, checked before any Graph call.

The seed's rules: no ``https://``, no path, no port; only the first server is used, so exactly one.
A name in Unicode is written as IDNA (A-labels), lower case, as devices resolve it.

>>> check_server("SMDP.Example.com")
'smdp.example.com'
>>> check_server("smdp.bücher.example")
'smdp.xn--bcher-kva.example'
"""

from __future__ import annotations

import re
import unicodedata

import idna

from eidflow.errors import ConfigError

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_SEPARATORS = re.compile(r"[\s,;]")


class InvalidServer(ConfigError):
    """The operator profile's ``smdp_server`` is not one bare FQDN."""


def check_server(value: str, *, where: str = "smdp_server") -> str:
    """``value`` as the FQDN to configure, or :class:`InvalidServer` saying what is wrong."""
    fault = _fault(value)
    if fault:
        raise InvalidServer(
            f"{where} {value!r}: {fault}.",
            todo="Give the operator's download server as a bare name, e.g. smdp.example.com.",
        )
    return _ascii(value.strip())


def _fault(value: str) -> str:
    text = value.strip()
    if not text:
        return "no server name; the eSIM policy needs the operator's SM-DP+ FQDN"
    if "://" in text or re.match(r"(?i)^https?:", text):
        return "no scheme (https://): the server name only"
    if _SEPARATORS.search(text):
        return "exactly one server (Windows uses only the first)"
    if "/" in text or "?" in text or "#" in text:
        return "no path: the server name only"
    if "@" in text:
        return "no user name: the server name only"
    if ":" in text or text.startswith("["):
        return "no port: the server name only"
    hidden = next((char for char in text if unicodedata.category(char) in ("Cf", "Cc")), None)
    if hidden is not None:
        return f"an invisible character (U+{ord(hidden):04X}), copied with the name"
    if text.endswith("."):
        return "no trailing dot"
    try:
        name = _ascii(text)
    except idna.IDNAError as error:
        return f"not a valid international host name ({error})"
    if len(name) > 253:
        return f"{len(name)} characters; a host name has at most 253"
    labels = name.split(".")
    if len(labels) < 2:
        return "not a fully qualified name (it needs a domain, e.g. smdp.example.com)"
    bad = next((label for label in labels if not _LABEL.fullmatch(label)), None)
    if bad is not None:
        return f"label {bad!r} is not a host-name label (letters, digits, '-', 1 to 63 characters)"
    if labels[-1].isdigit():
        return "an IP address or numeric name, not an FQDN"
    return ""


def _ascii(text: str) -> str:
    if not text.isascii():
        return idna.encode(text, uts46=True).decode("ascii").lower()
    if "xn--" in text.lower():
        idna.encode(text.lower())  # an A-label must be valid IDNA
    return text.lower()
