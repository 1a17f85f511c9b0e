"""`rolegate export | plan | apply`: a workspace's roles as code (YAML), through the
same services as the API and the UI (same rules, same audit). The operator's CLI acts
as the platform."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from rolegate.cli.common import UrlOption, fail, open_rolegate, out, reporting_errors
from rolegate.domain.words import count_of
from rolegate.domain.workspace import Actor
from rolegate.presets.loader import DuplicateKeysError, load_yaml
from rolegate.services.roles_code import Plan, apply_document, export_document, plan_document

__all__ = ["apply", "export", "plan"]

OPERATOR = Actor.system("cli")

WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="The workspace id.", show_default=False)]
FileArgument = Annotated[
    Path, typer.Argument(help="A roles file written by `rolegate export` (YAML).", show_default=False)
]
PruneOption = Annotated[bool, typer.Option("--prune", help="Also delete custom roles that the file does not list.")]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}", "Check the path.")
    except DuplicateKeysError as exc:
        fail(
            f"{path} repeats a key: {'; '.join(map(str, exc.problems))}",
            "Write each key once (YAML would keep only the last).",
        )
    except yaml.YAMLError as exc:
        fail(f"{path} is not valid YAML: {exc}", "Fix the file, or export it again.")
    if not isinstance(data, dict):
        fail(f"{path} is not a roles file (a mapping with format, preset, roles ...)", "Start from `rolegate export`.")
    return data


def _print(plan: Plan, *, done: bool) -> None:
    for line in plan.lines():
        out.print(("applied " if done and not plan.empty else "") + line, markup=False)


def export(
    workspace: WorkspaceOption,
    output: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file (default: standard output).", show_default=False),
    ] = None,
    url: UrlOption = None,
) -> None:
    """Write the workspace's roles, field permissions, features and seat capacities as YAML."""
    with reporting_errors(), open_rolegate(url) as rg:
        doc = export_document(rg.reader(), actor=OPERATOR, workspace_id=workspace)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {len(doc['roles'])} roles of {doc['workspace']!r} to {output}", markup=False)


def plan(file: FileArgument, workspace: WorkspaceOption, prune: PruneOption = False, url: UrlOption = None) -> None:
    """Show what `apply` would change, which members it affects ("no changes" when none)
    and every change a rule would refuse (exit 2 then): nothing is written."""
    doc = _read(file)
    with reporting_errors(), open_rolegate(url) as rg:
        # a writable unit of work: the changes are tried through the services, then rolled back
        planned = plan_document(rg.uow(), actor=OPERATOR, workspace_id=workspace, document=doc, prune=prune)
    _print(planned, done=False)
    if planned.refusals:
        fail(
            f"apply would refuse {count_of(len(planned.refusals), 'change')} of {file}, and apply nothing",
            "Change the file so that no rule refuses it, then plan again.",
        )


def apply(file: FileArgument, workspace: WorkspaceOption, prune: PruneOption = False, url: UrlOption = None) -> None:
    """Apply the file in one transaction: each change through the services, audited; all
    or nothing (a refused change leaves the workspace as it was); a second run changes nothing."""
    doc = _read(file)
    with reporting_errors(), open_rolegate(url) as rg:
        _print(apply_document(rg.uow(), actor=OPERATOR, workspace_id=workspace, document=doc, prune=prune), done=True)
