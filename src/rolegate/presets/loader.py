"""Read product schemas from YAML: the shipped presets, or any file."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from rolegate.domain.errors import SchemaError, SchemaProblem
from rolegate.domain.schema import ProductSchema
from rolegate.domain.schema_build import did_you_mean, parse_schema

__all__ = ["PRESET_KEYS", "load_preset", "load_schema_file", "load_schema_text"]

PRESET_KEYS: tuple[str, ...] = (
    "natero",
    "customersuccessbox",
    "catalyst",
    "email_marketing",
    "telephony",
)


def load_schema_text(text: str, *, source: str = "<text>") -> ProductSchema:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SchemaError([SchemaProblem(where, f"not valid YAML: {problem}", "check indentation and quoting")], source=source) from None
    return parse_schema(data, source=source)


def load_schema_file(path: str | Path) -> ProductSchema:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError([SchemaProblem("", f"cannot read {p}: {exc.strerror}", "check the path")], source=str(p)) from None
    return load_schema_text(text, source=str(p))


@cache
def load_preset(key: str) -> ProductSchema:
    """One of the five shipped product schemas, parsed once per process."""
    if key not in PRESET_KEYS:
        hint = did_you_mean(key, PRESET_KEYS) or f"one of {', '.join(PRESET_KEYS)}"
        raise SchemaError([SchemaProblem("", f"unknown preset {key!r}", hint)])
    text = resources.files("rolegate.presets").joinpath(f"{key}.yaml").read_text(encoding="utf-8")
    return load_schema_text(text, source=f"preset {key}")
