"""One problem per mistake a product schema author can make, each named by its path
(the table of tests/unit/domain/test_schema_build.py's `minimal()` schema, changed in
one place)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rolegate.domain.schema import FieldAccess
from rolegate.domain.schema_build import parse_schema
from tests.unit.domain.test_schema_build import minimal, problems_of

Change = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value

    return change


def _all(*changes: Change) -> Change:
    def change(data: dict[str, Any]) -> None:
        for c in changes:
            c(data)

    return change


CASES: list[tuple[str, Change, str]] = [
    (
        "a view action of another object",
        _set("objects/task/view_action", "accounts.view"),
        "objects.task.view_action: action 'accounts.view' is not on object 'task'",
    ),
    (
        "assignees on an object that has none",
        _set("objects/task/assignee_action", "tasks.view"),
        "objects.task.assignee_action: only an assignable object has assignees",
    ),
    (
        "an integration cap on a field not synced from it",
        _all(
            _set("integrations", {"sf": {"label": "Salesforce", "field_caps": {"account.name": "read"}}}),
            _set("objects/account/fields", {"name": {}}),
        ),
        "field 'account.name' is not synced from 'sf'",
    ),
    (
        "a grant of an unknown action",
        _set("permissions/admin.all/grants", ["admin.nope"]),
        "permissions.admin.all.grants[0]: unknown action 'admin.nope'",
    ),
    (
        "a permission requiring itself",
        _set("permissions/admin.all/requires", ["admin.all"]),
        "permissions.admin.all.requires: a permission cannot require itself",
    ),
    (
        "two view permissions in one row",
        _all(
            _set("permissions/assets.view_media/pair", {"row": "media", "column": "view"}),
            _set("permissions/admin.all/pair", {"row": "media", "column": "view"}),
        ),
        "permissions.admin.all.pair: row 'media' already has a view permission ('assets.view_media')",
    ),
    (
        "a manage permission without its row's view",
        _all(
            _set("permissions/assets.view_media/pair", {"row": "media", "column": "view"}),
            _set("permissions/admin.all/pair", {"row": "media", "column": "manage"}),
        ),
        "permissions.admin.all.requires: a manage permission needs its row's view permission 'assets.view_media'",
    ),
    (
        "a requirement cycle through an unknown key",
        _set("permissions/assets.view_media/requires", ["assets.nope"]),
        "permissions.assets.view_media.requires",
    ),
    ("no level", _set("levels", {}), "levels: at least one level is needed"),
    (
        "two levels of one rank",
        _set("levels/other", {"label": "Other", "rank": 1}),
        "levels.other.rank: rank 1 is also the rank of 'member'",
    ),
    (
        "a marker outside marker mode",
        _set(
            "level_policy",
            {
                "mode": "chosen",
                "marker": {"permission": "admin.all", "when_granted": "member", "when_not_granted": "member"},
            },
        ),
        "level_policy.marker: a marker only applies in mode `marker`",
    ),
    ("no system role", _set("roles", {}), "roles: at least one system role is needed"),
    (
        "a system role without a level",
        _set("roles/admin", {"name": "Admin", "grants": "all"}),
        "roles.admin.level: required key is missing",
    ),
    (
        "a role's level where the marker decides it",
        _all(
            _set("levels/high", {"label": "High", "rank": 2}),
            _set(
                "level_policy",
                {
                    "mode": "marker",
                    "marker": {"permission": "admin.all", "when_granted": "high", "when_not_granted": "member"},
                },
            ),
        ),
        "roles.admin.level: the level follows the marker permission here (N2)",
    ),
    (
        "a system role without a landing page where pages exist",
        _set("landing_pages", {"home": {"label": "Home"}}),
        "roles.admin.landing_page: required key is missing",
    ),
    (
        "a role's field access on an unknown field and object",
        _all(
            _set("objects/account/fields", {"name": {}}),
            _set("roles/admin/fields", {"account": {"nmae": "read"}, "planet": {"x": "read"}}),
        ),
        "roles.admin.fields.account.nmae: unknown field 'nmae' of 'account'",
    ),
    (
        "a keep-one rule naming two things",
        _set("team", {"keep_one": {"level": "member", "right": "manage_members"}}),
        "team.keep_one: name exactly one of role, level or right",
    ),
    (
        "a grant gated by an unknown feature",
        _set("permissions/admin.all/grants", [{"action": "admin.all", "feature": "smss"}]),
        "permissions.admin.all.grants[0].feature: unknown feature 'smss'",
    ),
    (
        "a union value of the wrong shape",
        _set("permissions/admin.all/grants", [3]),
        "permissions.admin.all.grants[0]: input should be a valid string",
    ),
]


@pytest.mark.parametrize(("change", "expected"), [pytest.param(c, e, id=name) for name, c, e in CASES])
def test_a_schema_mistake_is_named_by_its_path(change: Change, expected: str) -> None:
    data = minimal()
    change(data)
    problems = problems_of(data)
    assert any(expected in p for p in problems), problems


def test_a_union_value_of_the_wrong_shape_is_reported_once() -> None:
    """Both branches of a grant (a key, or a mapping) refuse 3 at the same path: one problem."""
    data = minimal()
    _set("permissions/admin.all/grants", [3])(data)
    assert len([p for p in problems_of(data) if p.startswith("permissions.admin.all.grants[0]:")]) == 1


def test_a_system_role_keeps_its_field_access() -> None:
    data = minimal()
    _all(_set("objects/account/fields", {"name": {}}), _set("roles/admin/fields", {"account": {"name": "read"}}))(data)
    schema = parse_schema(data)
    assert schema.system_roles["admin"].field_access == {("account", "name"): FieldAccess.READ}
