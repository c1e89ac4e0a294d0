"""User-facing errors are one line each, whatever the names and texts they carry."""

from __future__ import annotations

import doctest

import pytest

from eidflow import errors
from eidflow.errors import ConfigError, InputError, ManifestError, printable


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(errors)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain.csv", "plain.csv"),
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("\x1b[2J\x07\x00\x7f", "\\x1b[2J\\x07\\x00\\x7f"),
        ("\x85\x9b", "\\x85\\x9b"),  # C1: NEL, CSI
        ("abc\u202edef", "abc\\u202edef"),  # shows "abcfed"
        ("\u2066x\u2069\u200e\u200f\u061c", "\\u2066x\\u2069\\u200e\\u200f\\u061c"),
        ("line\u2028sep\u2029", "line\\u2028sep\\u2029"),
        ("Ünïcödé 名前 C:\\in\\x.csv", "Ünïcödé 名前 C:\\in\\x.csv"),  # kept as written
    ],
)
def test_printable_escapes_what_would_break_a_line_or_steer_a_terminal(
    text: str, shown: str
) -> None:
    assert printable(text) == shown
    assert printable(shown) == shown  # escaping twice changes nothing


@pytest.mark.parametrize(
    "error",
    [
        ConfigError("x\n[graph] fake: line", todo="do\rthis"),
        InputError("in\nbox.csv", "is\x1b[31m odd.", sheet="S\u202eheet", row=3),
        ManifestError("m\u2066.csv", "bad\x9b."),
    ],
)
def test_every_error_is_one_safe_line(error: Exception) -> None:
    text = str(error)
    assert not any(char in text for char in "\n\r\x1b\x9b\u202e\u2066")
