"""Identifier rules (EID, IMEI) in the style of python-stdnum: compact, validate, is_valid, format."""


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
