"""The [intune] section: names with {operator}, owners as object ids, the Auto Enable rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from eidflow.intune.config import IntuneSettings

USER = "7c1e0f52-3b9a-4d61-8e2f-5a0b9c7d1e34"


def test_owners_become_odata_bind_urls() -> None:
    settings = IntuneSettings(group_owners=[USER.upper(), f"servicePrincipals/{USER}"])
    assert settings.owner_refs() == [
        f"https://graph.microsoft.com/v1.0/users/{USER}",
        f"https://graph.microsoft.com/v1.0/servicePrincipals/{USER}",
    ]


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"group_owners": ["admin@contoso.com"]}, "object id"),
        ({"group_owners": [f"groups/{USER}"]}, "object id"),
        ({"group_name": "eSIM {customer}"}, "{operator}"),
        ({"policy_name": "  "}, "a name is needed"),
        ({"display_local_ui": False, "auto_enable": False}, "needs auto_enable = true"),
    ],
)
def test_mistakes_are_named(values: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says.replace("{", r"\{").replace("}", r"\}")):
        IntuneSettings.model_validate(values)


def test_local_ui_off_with_auto_enable_on_is_fine() -> None:
    assert not IntuneSettings(display_local_ui=False).display_local_ui
