"""`rolegate schema ...`: validate product schema files, emit the JSON Schema, plan and
apply a new version of a product schema to every workspace of the product."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rolegate.cli.common import EXIT_NO, UrlOption, fail, open_rolegate, reporting_errors
from rolegate.domain.errors import SchemaError
from rolegate.domain.schema_format import ProductSchemaSpec
from rolegate.domain.words import count_of
from rolegate.domain.workspace import Actor
from rolegate.presets import load_schema_file
from rolegate.services.schema_upgrade import (
    ApplyProgress,
    UpgradePlan,
    apply_upgrade,
    plan_upgrade,
    register_product,
    upgrade_status,
)

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
        err.print(f"[bold red]{path}: {count_of(len(exc.problems), 'problem')}[/]")
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


# -- upgrades: plan and apply a new version of a product schema (issue 19) -------------

OPERATOR = Actor.system("cli")
NewSchemaArgument = Annotated[Path, typer.Argument(help="The new version of a product schema (YAML).", show_default=False)]


def _source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}", "Check the path.")


def _verb(n: int, plural: str) -> str:
    """The present tense agreeing with `n` things: "1 member gains", "2 members gain"."""
    return plural + "s" if n == 1 else plural


def _print_plan(plan: UpgradePlan) -> None:
    s = plan.summary()
    out.print(
        f"{plan.product} -> version {plan.version}: {count_of(s['to_upgrade'], 'workspace')} to upgrade "
        f"({s['ready']} ready, {s['blocked']} blocked), {s['up_to_date']} already on it",
        markup=False,
    )
    for part, keys in plan.diff.as_dict()["added"].items():
        out.print(f"  + {part}: {', '.join(keys)}", markup=False)
    for part, keys in plan.diff.as_dict()["removed"].items():
        out.print(f"  - {part}: {', '.join(keys)}", markup=False)
    for part, pairs in plan.diff.as_dict()["renamed"].items():
        out.print(f"  ~ {part}: {', '.join(f'{a} -> {b}' for a, b in pairs)}", markup=False)
    for old, parts in plan.diff.as_dict()["split"].items():
        out.print(f"  / permissions: {old} -> {', '.join(parts)}", markup=False)
    for w in plan.workspaces:
        u = w.upgrade
        state = "ready" if w.ok else "BLOCKED"
        out.print(f"workspace {w.workspace_id} ({w.name}) v{w.version_from} -> v{w.version_to}: {state}", markup=False)
        for b in w.blockers:
            out.print(f"  blocker: {b}", markup=False)
        if u is None:
            continue
        for c in u.role_changes:
            if c.changed:
                d = c.as_dict()
                out.print(
                    f"  role {c.name!r}: +{','.join(d['grants_added']) or '-'} -{','.join(d['grants_removed']) or '-'}"
                    + (f" level {d['level'][0]} -> {d['level'][1]}" if "level" in d else "")
                    + (f" dropped {','.join(c.dropped)}" if c.dropped else ""),
                    markup=False,
                )
        for m in u.member_changes:
            if m.gained or m.lost:
                out.print(f"  member {m.member_id}: gains {', '.join(m.gained) or '-'}; loses {', '.join(m.lost) or '-'}", markup=False)
    out.print(
        f"summary: {count_of(s['members_gaining'], 'member')} {_verb(s['members_gaining'], 'gain')}, {s['members_losing']} {_verb(s['members_losing'], 'lose')}, "
        f"{count_of(s['roles_changed'], 'role')} {_verb(s['roles_changed'], 'change')}, {count_of(s['seat_overflows'], 'seat overflow')}, "
        f"{count_of(s['refused_roles'], 'refused role')}, {count_of(s['k8_violations'], 'K8 violation')}",
        markup=False,
    )


@app.command("register")
def register(
    path: Annotated[Path, typer.Argument(help="Your product's schema YAML file (its `key:` names the product).")],
    url: UrlOption = None,
) -> None:
    """Register a product of your own: workspaces are then created for its `key`, as for a preset."""
    source = _source(path)
    with reporting_errors(), open_rolegate(url) as rg:
        done = register_product(rg.uow(), actor=OPERATOR, source=source)
    state = "registered" if done.created else "already registered"
    typer.echo(f"{done.product}: {state}: {done.name}, version {done.version}")


@app.command("plan")
def plan(
    path: NewSchemaArgument,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    url: UrlOption = None,
) -> None:
    """What upgrading every workspace of the product to this schema would do (nothing written)."""
    source = _source(path)
    with reporting_errors(), open_rolegate(url) as rg:
        result = plan_upgrade(rg.reader(), actor=OPERATOR, source=source)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2, sort_keys=True))
    else:
        _print_plan(result)


@app.command("apply")
def apply(
    path: NewSchemaArgument,
    batch: Annotated[int, typer.Option("--batch", help="Workspaces listed per batch (one transaction each).")] = 100,
    url: UrlOption = None,
) -> None:
    """Upgrade every workspace of the product to this schema, one transaction each;
    rerun to resume. A blocked workspace stays on its version (exit 1)."""
    source = _source(path)
    with reporting_errors(), open_rolegate(url) as rg, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err
    ) as bar:
        task = bar.add_task("upgrading", total=None)

        def progress(p: ApplyProgress) -> None:
            bar.update(task, total=p.total, completed=p.done, description=f"upgrading ({p.outcome} {p.workspace_id[:8]})")

        status = apply_upgrade(rg.uow, actor=OPERATOR, source=source, batch=batch, on_progress=progress)
    d = status.as_dict()
    out.print(f"upgrade {d['id']}: {d['product']} version {d['version']}: {d['migrated']} migrated, {d['blocked']} blocked", markup=False)
    for w in d["blocked_workspaces"]:
        out.print(f"  blocked {w['workspace_id']}: {'; '.join(w['blockers'])}", markup=False)
    if d["blocked"]:
        raise typer.Exit(EXIT_NO)


@app.command("upgrades")
def upgrades(
    product: Annotated[str | None, typer.Option("--product", help="Only this product's runs.")] = None,
    url: UrlOption = None,
) -> None:
    """Every schema upgrade run (newest first) as JSON: status and per-workspace counts."""
    with reporting_errors(), open_rolegate(url) as rg:
        runs = upgrade_status(rg.reader(), actor=OPERATOR, product=product)
    typer.echo(json.dumps([r.as_dict() for r in runs], indent=2, sort_keys=True))
