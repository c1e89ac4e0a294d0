"""Per-operator layouts of answer files (``[parsers.response_profiles.NAME]`` in eidflow.toml).

The profile named like the operator (``--operator NAME``) is used for its answers unless
``--response-profile`` names another; ``recognise`` picks one from the headers. Columns a
profile does not name fall back to the built-in aliases (``parsers.answers.ALIASES``)::

    [parsers.response_profiles.contoso-mobile]
    eid = "Device EID"            # the header texts, compared like the aliases
    status = "Provisioning Result"
    reason = "Error Text"         # also: iccid, smdp_address, order_id, answered_at
    sheet = "Errors"              # optional: read only this sheet
    header_row = 3                # optional: the header is on this row (1 = first line)
    recognise = ["Provisioning Result"]
    accepted = ["Done"]           # the operator's own status words, beside the built-in ones
    rejected = ["NOK", "Refusé"]
    pending = ["Awaiting SM-DP+"]
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Fields of an answer file a profile can name a column for.
RESPONSE_FIELDS = ("eid", "status", "reason", "iccid", "smdp_address", "order_id", "answered_at")


class ResponseProfile(BaseModel):
    """One operator's answer-file layout and status words."""

    model_config = ConfigDict(extra="forbid")

    eid: str = ""
    status: str = ""
    reason: str = ""
    iccid: str = ""
    smdp_address: str = ""
    order_id: str = ""
    answered_at: str = ""
    sheet: str = ""
    header_row: int | None = Field(default=None, ge=1)
    recognise: list[str] = Field(default_factory=list)
    accepted: list[str] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)
    pending: list[str] = Field(default_factory=list)

    def columns(self) -> dict[str, str]:
        """The fields this profile names explicitly: field -> header text."""
        return {name: getattr(self, name) for name in RESPONSE_FIELDS if getattr(self, name)}
