"""`rolegate demo`: a database with one workspace per preset, sample members, records
and assignments, an API key, and how to call the API with it.

Everything goes through the services, as the platform (`Actor.system("cli")`), so the
audit log of each workspace tells how it was built. Running it again creates only the
workspaces that are missing (a demo workspace you changed is left as it is) and prints
the same instructions with a fresh API key: keys are stored hashed, so an earlier one
cannot be shown again (it keeps working).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated

import typer

from rolegate.bootstrap import Rolegate
from rolegate.cli.common import UrlOption, database_url, fail, open_rolegate, out, reporting_errors
from rolegate.domain.roles import MemberStatus
from rolegate.domain.workspace import Actor, Workspace
from rolegate.engine import Record, RecordRef
from rolegate.presets import PRESET_KEYS, load_preset
from rolegate.services.api_keys import create_api_key
from rolegate.services.invitations import invite
from rolegate.services.members import add_member, disable_member
from rolegate.services.records import upsert_record
from rolegate.services.workspaces import create_organization, create_workspace
from rolegate.store.migrations import downgrade, status, upgrade

ACTOR = Actor.system("cli")
ORGANIZATION = "Rolegate demo"
ADMIN_EMAIL = "admin@example.com"
ADMIN_NAME = "Avery Admin"
ADMIN_PASSWORD = "rolegate-demo"

PEOPLE = {
    "ann": ("ann@example.com", "Ann Archer"),
    "bob": ("bob@example.com", "Bob Baker"),
    "carol": ("carol@example.com", "Carol Chen"),
    "dan": ("dan@example.com", "Dan Diaz"),
    "eve": ("eve@example.com", "Eve Evans"),
}


@dataclass(frozen=True, slots=True)
class Seat:
    person: str
    role: str
    status: MemberStatus = MemberStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Rec:
    type: str
    id: str
    assignee: str | None = None
    parent: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A demo workspace: who is in it, with which role and status, and its records."""

    members: Sequence[Seat]
    records: Sequence[Rec] = ()
    seat_capacities: dict[str, int | None] = field(default_factory=dict)
    features: Sequence[str] | None = None


INVITED, DISABLED = MemberStatus.INVITED, MemberStatus.DISABLED

PLANS: dict[str, Plan] = {
    "natero": Plan(
        members=[Seat("ann", "csm"), Seat("bob", "csm"), Seat("eve", "executive"), Seat("carol", "guest", INVITED), Seat("dan", "analyst", DISABLED)],
        records=[
            Rec("account", "acme", "ann"),
            Rec("account", "globex", "bob"),
            Rec("account", "initech"),
            Rec("task", "acme-onboarding", parent=("account", "acme")),
            Rec("interaction", "globex-kickoff-call", parent=("account", "globex")),
        ],
        seat_capacities={"csm": 5, "analyst": 5},
    ),
    "customersuccessbox": Plan(
        members=[Seat("ann", "csm"), Seat("bob", "super_manager"), Seat("carol", "developer", INVITED), Seat("dan", "csm", DISABLED)],
        records=[
            Rec("account", "acme", "ann"),
            Rec("account", "globex", "bob"),
            Rec("account", "initech"),
            Rec("subscription", "acme-pro", parent=("account", "acme")),
            Rec("task", "globex-renewal", parent=("account", "globex")),
        ],
    ),
    "catalyst": Plan(
        members=[Seat("ann", "member"), Seat("bob", "viewer"), Seat("carol", "member", INVITED), Seat("dan", "viewer", DISABLED)],
        records=[Rec("account", "acme"), Rec("account", "globex"), Rec("contact", "jane-doe")],
        seat_capacities={"editor": 5, "viewer": 10},
    ),
    "email_marketing": Plan(
        members=[Seat("ann", "campaign_manager"), Seat("bob", "content_editor"), Seat("carol", "analyst", INVITED), Seat("dan", "analyst", DISABLED)],
        features=["basic_crm", "sms"],
    ),
    "telephony": Plan(
        members=[Seat("ann", "administrator"), Seat("bob", "analyst"), Seat("carol", "analyst", INVITED), Seat("dan", "analyst", DISABLED)],
    ),
}


def demo_name(preset: str) -> str:
    return f"{load_preset(preset).name} demo"


def find_demo(rg: Rolegate) -> tuple[dict[str, Workspace], list[Workspace]]:
    """The demo workspaces by preset, and every other workspace of the database."""
    names = {demo_name(key): key for key in PRESET_KEYS}
    found: dict[str, Workspace] = {}
    others: list[Workspace] = []
    with rg.uow() as uow:
        for ws in uow.workspaces.all():
            key = names.get(ws.name)
            if key == ws.preset and key not in found:
                found[key] = ws
            else:
                others.append(ws)
    return found, others


def build_workspace(rg: Rolegate, preset: str, organization_id: str) -> Workspace:
    plan = PLANS[preset]
    created = create_workspace(
        rg.uow(),
        actor=ACTOR,
        preset=preset,
        name=demo_name(preset),
        owner_email=ADMIN_EMAIL,
        owner_name=ADMIN_NAME,
        owner_password=ADMIN_PASSWORD,
        organization_id=organization_id,
        features=plan.features,
        seat_capacities=plan.seat_capacities,
    )
    ws_id = created.workspace.id
    ids: dict[str, str] = {}
    for seat in plan.members:
        email, name = PEOPLE[seat.person]
        if seat.status is INVITED:
            # A real invitation: its email waits in the outbox (the admin UI's Outbox page, or SMTP).
            info = invite(rg.uow(), actor=ACTOR, workspace_id=ws_id, email=email, role_id=seat.role, name=name, policy=rg.mail_policy).member
        else:
            info = add_member(rg.uow(), actor=ACTOR, workspace_id=ws_id, email=email, role_id=seat.role, name=name)
        ids[seat.person] = info.member.id
        if seat.status is DISABLED:
            disable_member(rg.uow(), actor=ACTOR, workspace_id=ws_id, member_id=info.member.id)
    for rec in plan.records:
        parent = RecordRef(*rec.parent) if rec.parent else None
        assignee = ids[rec.assignee] if rec.assignee else None
        upsert_record(rg.uow(), actor=ACTOR, workspace_id=ws_id, record=Record(rec.type, rec.id, parent, assignee))
    return created.workspace


def demo(
    url: UrlOption = None,
    reset: Annotated[bool, typer.Option("--reset", help="Drop every Rolegate table of this database first and start over.")] = False,
    env: Annotated[
        bool,
        typer.Option("--env", help="Print only shell `export` lines (API key, workspace and member ids) for `eval \"$(rolegate demo --env)\"`."),
    ] = False,
) -> None:
    """Fill a database with one workspace per preset, sample members and records, and an API key; print how to use them.

    Migrates the database first. Safe to run again: existing demo workspaces are kept.
    """
    resolved = database_url(url)
    with reporting_errors():
        if reset:
            reset_database(resolved)
        migrated = upgrade(resolved)
        if migrated.changed and not env:
            out.print(f"{migrated.url}: migrated to revision {migrated.after}", markup=False)
        with open_rolegate(resolved) as rg:
            found, _ = find_demo(rg)
            missing = [key for key in PRESET_KEYS if key not in found]
            if found:
                org = next(iter(found.values())).organization_id
            else:
                org = create_organization(rg.uow(), actor=ACTOR, name=ORGANIZATION)
            for key in missing:
                found[key] = build_workspace(rg, key, org)
            key_text = create_api_key(rg.uow(), organization_id=org, rights={"decide", "admin"}, name="demo key")
            if env:
                print_env(rg, found, org, key_text)
                return
            if missing and len(missing) < len(PRESET_KEYS):
                out.print(f"Demo data was partly there; created: {', '.join(missing)}.", markup=False)
            elif missing:
                out.print(f"Created the demo in {migrated.url}: one workspace per preset.", markup=False)
            else:
                out.print(f"The demo data is already in {migrated.url} (created earlier; left as it is). Here it is again:", markup=False)
            print_instructions(rg, found, key_text)


def reset_database(url: str) -> None:
    """Drop the Rolegate tables, unless the database holds workspaces that are not the demo's."""
    if status(url).is_current:
        with open_rolegate(url) as rg:
            _, others = find_demo(rg)
        if others:
            fail(
                f"--reset would delete {len(others)} workspace(s) that are not the demo's (e.g. {others[0].name!r})",
                "Run the demo on a database of its own: --url sqlite:///./demo.db",
            )
    downgrade(url, "base")
    out.print("--reset: dropped every Rolegate table; starting over", markup=False)


def print_env(rg: Rolegate, workspaces: dict[str, Workspace], organization_id: str, key_text: str) -> None:
    """The ids the README's shell examples use, as `export` lines: the examples run as written."""
    values = {"BASE": rg.settings.public_url, "KEY": key_text, "ORG": organization_id}
    with rg.uow() as uow:
        for key, prefix in (("natero", ""), ("catalyst", "CATALYST_"), ("telephony", "TELEPHONY_")):
            ws = workspaces[key]
            infos = {i.email: i for i in uow.members.all(ws.id)}
            values[f"{prefix}WS"] = ws.id
            values[f"{prefix}ADMIN"] = infos[ADMIN_EMAIL].member.id
            values[f"{prefix}ANN"] = infos[PEOPLE["ann"][0]].member.id
            values[f"{prefix}BOB"] = infos[PEOPLE["bob"][0]].member.id
            if not prefix:
                values["ADMIN_USER"] = infos[ADMIN_EMAIL].user_id
    for name, value in values.items():
        print(f"export {name}={shlex.quote(value)}")


def print_instructions(rg: Rolegate, workspaces: dict[str, Workspace], key_text: str) -> None:
    out.print()
    out.print("Log in (admin UI)", style="bold")
    out.print(f"  {ADMIN_EMAIL} / {ADMIN_PASSWORD}  (the first owner or administrator of every demo workspace)", markup=False)
    out.print()
    out.print("Workspaces", style="bold")
    people: dict[str, dict[str, str]] = {}
    with rg.uow() as uow:
        for key in PRESET_KEYS:
            ws = workspaces[key]
            infos = uow.members.all(ws.id)
            people[key] = {i.email: i.member.id for i in infos}
            invited = sum(i.member.status is INVITED for i in infos)
            disabled = sum(i.member.status is DISABLED for i in infos)
            records = len(uow.records.all(ws.id))
            out.print(
                f"  {key:19} {ws.id}  {len(infos)} members ({invited} invited, {disabled} disabled), {records} records",
                markup=False,
            )
    out.print()
    out.print("API key", style="bold")
    out.print(f"  {key_text}", markup=False)
    out.print("  organization-wide, rights decide + admin; a new one on every run (keys are stored hashed; earlier ones keep working)", markup=False)
    out.print()
    natero = workspaces["natero"].id
    ann = people["natero"][PEOPLE["ann"][0]]
    admin = people["natero"][ADMIN_EMAIL]
    api = rg.settings.public_url
    base = f"{api}/v1/workspaces/{natero}"
    auth = f"-H {shlex.quote('Authorization: Bearer ' + key_text)}"
    out.print(f"Try it (Natero demo; the server must be running: `rolegate serve`, or `make run`). Ann ({ann}) is a CSM; acme is assigned to her, globex to Bob:", style="bold", markup=False)
    examples = [
        ("May Ann update account attributes? (yes, on the accounts assigned to her: scope 'assigned')",
         f"curl -s -w '\\n' {auth} -H 'Content-Type: application/json' {base}/check -d '{{\"member\": \"{ann}\", \"action\": \"accounts.update_attributes\"}}'"),
        ("And on account globex, which is Bob's? (no, and the reasons say why)",
         f"curl -s -w '\\n' {auth} -H 'Content-Type: application/json' {base}/check -d '{{\"member\": \"{ann}\", \"action\": \"accounts.update_attributes\", \"record\": {{\"type\": \"account\", \"id\": \"globex\"}}}}'"),
        ("The roles, with levels and member counts (an admin call, made on behalf of the admin member)",
         f"curl -s -w '\\n' {auth} -H 'Rolegate-Actor: {admin}' {base}/roles"),
        ("Which accounts may Ann view? A filter for your own database",
         f"curl -s -w '\\n' {auth} -H 'Content-Type: application/json' {base}/lookup -d '{{\"member\": \"{ann}\", \"action\": \"accounts.view\", \"object\": \"account\"}}'"),
    ]
    for comment, command in examples:
        out.print(f"# {comment}", markup=False)
        out.print(command, markup=False)
    out.print()
    out.print(f"OpenAPI: {api}/docs. From the command line: rolegate check -w {natero} {PEOPLE['ann'][0]} accounts.update_attributes --record account:globex", markup=False)
