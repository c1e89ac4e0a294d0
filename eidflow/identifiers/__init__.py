"""Identifier rules (EID, IMEI, ICCID) in the style of python-stdnum: compact, validate,
is_valid, format; the check digits they share (Luhn) and the errors they raise."""

from collections.abc import Callable


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit for ``digits`` (IMEIs, ICCIDs).

    >>> luhn_check_digit("35209900176148")
    '1'
    """
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def passes(validate: Callable[[str], str], value: str) -> bool:
    """Whether ``validate`` takes ``value`` (each rule's ``is_valid``)."""
    try:
        validate(value)
    except ValueError:
        return False
    return True


class ValidationError(ValueError):
    """An identifier is not valid; ``reason`` is the decisions.csv reason code."""

    reason = ""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__doc__ or "")


class InvalidFormat(ValidationError):
    """Characters other than digits remain after removing separators."""

    reason = "eid_not_digits"


class InvalidLength(ValidationError):
    """The number has the wrong length."""

    reason = "eid_length"


class InvalidChecksum(ValidationError):
    """The check digits are wrong."""

    reason = "eid_checksum"


class PrecisionLost(ValidationError):
    """The value went through a spreadsheet number and lost digits; it cannot be repaired."""

    reason = "eid_precision_lost"


class Missing(ValidationError):
    """No value."""

    reason = "eid_missing"
