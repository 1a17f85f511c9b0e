"""Issue 15 (human copy): a form that does not fit says so in the words of the page,
not the validation library's ("String should have at least 1 character")."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from rolegate.web.forms import FormInvalid, validated


class _Form(BaseModel):
    display_name: str = Field(min_length=1, max_length=5)
    code: str = Field(min_length=3)
    days: int = Field(ge=1, le=10)
    on: bool = False


def _messages(values: dict[str, object]) -> list[tuple[str, str]]:
    with pytest.raises(FormInvalid) as refused:
        validated(_Form, values)
    return [(v.message, v.fix) for v in refused.value.violations]


def test_each_field_that_does_not_fit_is_named_by_its_label_with_what_to_do() -> None:
    assert _messages({"display_name": "", "code": "ab", "days": "x"}) == [
        ("Display name cannot be empty.", "Fill in display name."),
        ("Code needs at least 3 characters.", "Lengthen code."),
        ("Days must be a whole number.", "Type a number in days."),
    ]
    assert _messages({"display_name": "toolong", "code": "abc", "days": 0, "on": "maybe"}) == [
        ("Display name can be at most 5 characters.", "Shorten display name."),
        ("Days must be at least 1.", "Choose a larger value for days."),
        ("On must be on or off.", "Tick or untick on."),
    ]
    assert _messages({"code": "abc", "days": 11}) == [
        ("Display name is required.", "Fill in display name."),
        ("Days can be at most 10.", "Choose a smaller value for days."),
    ]


def test_no_message_reads_like_the_validation_library() -> None:
    for message, fix in _messages({"display_name": "", "code": "", "days": "", "on": "?"}):
        assert "String should" not in message
        assert "Input should" not in message
        assert "'" not in fix
