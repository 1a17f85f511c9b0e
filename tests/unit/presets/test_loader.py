"""The YAML loader of product schemas refuses a repeated key with its path and lines:
PyYAML alone keeps the last value and drops the first without a word."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from rolegate.domain.errors import SchemaError
from rolegate.presets.loader import DuplicateKeysError, load_schema_text, load_yaml
from tests.unit.domain.test_schema_build import minimal


def _natero_with_a_second(permission: str, definition: str) -> str:
    """The shipped Natero preset with `permission` written again, after the first one."""
    text = resources.files("rolegate.presets").joinpath("natero.yaml").read_text(encoding="utf-8")
    head, sep, tail = text.partition("\npermissions:\n")
    assert sep, "natero.yaml has a top-level `permissions:` mapping"
    return f"{head}{sep}  {permission}:\n{definition}{tail}"


def test_a_permission_defined_twice_is_refused_with_its_path_and_lines() -> None:
    text = _natero_with_a_second("accounts.view_all", "    label: All accounts, again\n    grants: [accounts.view]\n")
    assert yaml.safe_load(text)["permissions"]["accounts.view_all"]  # PyYAML alone: one of the two, silently
    with pytest.raises(SchemaError) as info:
        load_schema_text(text, source="natero-copy.yaml")
    [problem] = info.value.problems
    assert problem.path == "permissions.accounts.view_all"
    first, second = (n for n, line in enumerate(text.splitlines(), start=1) if line == "  accounts.view_all:")
    assert f"duplicate key 'accounts.view_all' (lines {first} and {second})" in problem.message
    assert "natero-copy.yaml" in str(info.value)


def test_every_repeated_key_is_listed_at_any_depth() -> None:
    text = "key: mini\nname: Mini\nobjects:\n  account:\n    label: A\n    label: B\nroles:\n  - {id: a, id: b}\nkey: other\n"
    with pytest.raises(SchemaError) as info:
        load_schema_text(text)
    assert sorted(p.path for p in info.value.problems) == ["key", "objects.account.label", "roles[0].id"]


def test_the_same_key_in_different_mappings_and_anchors_are_not_duplicates() -> None:
    data = minimal()
    text = yaml.safe_dump(data)
    assert load_schema_text(text).key == "mini"  # `label:` in many mappings is no repetition
    shared = "base: &base {label: X, description: d}\nareas:\n  a: *base\n  b: {<<: *base, label: Y}\n"
    assert load_yaml(shared) == {
        "base": {"label": "X", "description": "d"},
        "areas": {"a": {"label": "X", "description": "d"}, "b": {"label": "Y", "description": "d"}},
    }


def test_load_yaml_is_safe_and_raises_a_yaml_error() -> None:
    with pytest.raises(yaml.constructor.ConstructorError):
        load_yaml("!!python/object/apply:os.system ['true']")
    with pytest.raises(DuplicateKeysError) as info:
        load_yaml("a: 1\nb: 2\na: 3\n")
    assert isinstance(info.value, yaml.YAMLError)
    assert [str(p) for p in info.value.problems] == [
        "a: duplicate key 'a' (lines 1 and 3): YAML would keep only the last (write each key once)"
    ]
