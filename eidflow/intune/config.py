"""Settings for ``eidflow intune setup`` (``[intune]`` in eidflow.toml).

The SM-DP+ server is the operator's (``[[operators]] smdp_server``); the group's id, once known,
goes in ``[entra] group_id``. ``{operator}`` in a name is the operator profile's name.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_OWNER = re.compile(rf"(?:(users|servicePrincipals)/)?({_GUID})")


class IntuneSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group_name: str = "eSIM PCs - {operator}"  # the static Entra device group's display name
    # Owners of a group eidflow creates (an app-created group needs one to stay editable in the
    # portal): object ids of users, or "servicePrincipals/<object id>".
    group_owners: list[str] = Field(default_factory=list)
    policy_name: str = "eSIM download server - {operator}"  # the settings-catalog profile
    auto_enable: bool = True  # Auto Enable: enable the downloaded eSIM profile
    display_local_ui: bool = True  # Display Local UI: eSIM settings shown in the Settings app

    @field_validator("group_name", "policy_name")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            filled = value.format(operator="op")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"{value!r}: {error}; the one placeholder is {{operator}}") from None
        if not filled.strip():
            raise ValueError("a name is needed")
        return value

    @field_validator("group_owners")
    @classmethod
    def _owner_ids(cls, owners: list[str]) -> list[str]:
        for owner in owners:
            if not _OWNER.fullmatch(owner.strip()):
                raise ValueError(
                    f"owner {owner!r}: give a user's object id (a GUID) or "
                    "servicePrincipals/<object id>"
                )
        return [owner.strip() for owner in owners]

    @model_validator(mode="after")
    def _auto_enable_without_ui(self) -> IntuneSettings:
        # The seed: "If Display Local UI is set to Disabled, Auto Enable must be checked."
        if not self.display_local_ui and not self.auto_enable:
            raise ValueError(
                "display_local_ui = false needs auto_enable = true (nobody could enable the "
                "eSIM profile on the PC)"
            )
        return self

    def owner_refs(self) -> list[str]:
        """``owners@odata.bind`` URLs for a new group."""
        refs = []
        for owner in self.group_owners:
            found = _OWNER.fullmatch(owner)
            assert found is not None
            refs.append(
                f"https://graph.microsoft.com/v1.0/{found.group(1) or 'users'}/{found.group(2).lower()}"
            )
        return refs
