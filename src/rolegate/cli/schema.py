"""`rolegate schema ...`: validate product schema files, emit the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rolegate.domain.errors import SchemaError
from rolegate.domain.schema_format import ProductSchemaSpec
from rolegate.presets import load_schema_file

app = typer.Typer(no_args_is_help=True, help="Product schema files.")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_PROBLEMS = 2


@app.command()
def validate(path: Annotated[Path, typer.Argument(help="A product schema YAML file.")]) -> None:
    """Check a product schema: print every problem with its path and a hint (exit 2)."""
    try:
        schema = load_schema_file(path)
    except SchemaError as exc:
        err.print(f"[bold red]{path}: {len(exc.problems)} problem(s)[/]")
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False)
        raise typer.Exit(EXIT_PROBLEMS) from None
    out.print(
        f"{path}: ok: {schema.name}: {len(schema.permissions)} permissions in {len(schema.areas)} areas, "
        f"{len(schema.actions)} actions, {len(schema.levels)} levels, {len(schema.system_roles)} system roles"
    )


def json_schema_text() -> str:
    document = ProductSchemaSpec.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "Rolegate product schema"
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


@app.command("jsonschema")
def jsonschema(
    out_path: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of the product schema format, for editors."""
    text = json_schema_text()
    if out_path is None:
        typer.echo(text, nl=False)
    else:
        out_path.write_text(text, encoding="utf-8")
        out.print(f"wrote {out_path}")
