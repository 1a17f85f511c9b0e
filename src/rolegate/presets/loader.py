"""Read product schemas from YAML: the shipped presets, or any file.

YAML itself lets a mapping repeat a key and PyYAML keeps the last one silently: a
permission written twice would lose its first definition without a word. The loader
here refuses every repeated key, with its path and lines, before anything is built."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from rolegate.domain.errors import SchemaError, SchemaProblem
from rolegate.domain.schema import ProductSchema
from rolegate.domain.schema_build import did_you_mean, parse_schema

__all__ = ["PRESET_KEYS", "DuplicateKeysError", "load_preset", "load_schema_file", "load_schema_text", "load_yaml"]

PRESET_KEYS: tuple[str, ...] = (
    "natero",
    "customersuccessbox",
    "catalyst",
    "email_marketing",
    "telephony",
)


class DuplicateKeysError(yaml.YAMLError):
    """A YAML document repeats a key of a mapping; one problem per repeated key."""

    def __init__(self, problems: list[SchemaProblem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def _duplicates(node: yaml.Node, path: str, seen_nodes: set[int]) -> list[SchemaProblem]:
    """Every repeated key under `node`, with its path (as the schema's problems write
    it: `permissions.accounts.view`, `roles[0]`) and the lines of both occurrences."""
    if id(node) in seen_nodes:  # an alias repeats a node already walked
        return []
    seen_nodes.add(id(node))
    problems: list[SchemaProblem] = []
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            problems += _duplicates(item, f"{path}[{i}]", seen_nodes)
    elif isinstance(node, yaml.MappingNode):
        first_line: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                # `<<: *base` merges, it is no key of its own; a mapping or list as a key is
                # no schema's (the format refuses it), only the value is walked.
                problems += _duplicates(value_node, path, seen_nodes)
                continue
            key = str(key_node.value)
            where = f"{path}.{key}" if path else key
            line = key_node.start_mark.line + 1
            if (key_node.tag, key) in first_line:
                problems.append(
                    SchemaProblem(
                        where,
                        f"duplicate key {key!r} (lines {first_line[key_node.tag, key]} and {line}): YAML would keep only the last",
                        "write each key once",
                    )
                )
            else:
                first_line[key_node.tag, key] = line
            problems += _duplicates(value_node, where, seen_nodes)
    return problems


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a mapping with a repeated key."""

    def construct_document(self, node: yaml.Node) -> object:
        problems = _duplicates(node, "", set())
        if problems:
            raise DuplicateKeysError(problems)
        return super().construct_document(node)


def load_yaml(text: str) -> object:
    """`yaml.safe_load`, but a repeated mapping key raises DuplicateKeysError."""
    return yaml.load(text, Loader=StrictLoader)  # StrictLoader is a SafeLoader: no Python objects


def load_schema_text(text: str, *, source: str = "<text>") -> ProductSchema:
    try:
        data = load_yaml(text)
    except DuplicateKeysError as exc:
        raise SchemaError(exc.problems, source=source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SchemaError(
            [SchemaProblem(where, f"not valid YAML: {problem}", "check indentation and quoting")], source=source
        ) from None
    return parse_schema(data, source=source)


def load_schema_file(path: str | Path) -> ProductSchema:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError(
            [SchemaProblem("", f"cannot read {p}: {exc.strerror}", "check the path")], source=str(p)
        ) from None
    return load_schema_text(text, source=str(p))


@cache
def load_preset(key: str) -> ProductSchema:
    """One of the five shipped product schemas, parsed once per process."""
    if key not in PRESET_KEYS:
        hint = did_you_mean(key, PRESET_KEYS) or f"one of {', '.join(PRESET_KEYS)}"
        raise SchemaError([SchemaProblem("", f"unknown preset {key!r}", hint)])
    text = resources.files("rolegate.presets").joinpath(f"{key}.yaml").read_text(encoding="utf-8")
    return load_schema_text(text, source=f"preset {key}")
