"""The demo (`rolegate demo`): one workspace per preset with sample members, records
and assignments, and an API key, built through the services as the platform, so the
audit log of each workspace tells how it was built. Building again creates only the
workspaces that are missing (a demo workspace someone changed is left as it is) and
a fresh API key: keys are stored hashed, so an earlier one cannot be shown again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rolegate.domain.errors import RolegateError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.words import count_of
from rolegate.domain.workspace import Actor, Workspace
from rolegate.engine import Record, RecordRef
from rolegate.presets import PRESET_KEYS, load_preset
from rolegate.services.api_keys import create_api_key
from rolegate.services.database import downgrade, status
from rolegate.services.invitations import invite
from rolegate.services.mail import MailPolicy
from rolegate.services.members import add_member, disable_member
from rolegate.services.records import upsert_record
from rolegate.services.workspaces import create_organization, create_workspace
from rolegate.store import UnitOfWork, make_engine

__all__ = [
    "ACTOR",
    "ADMIN_EMAIL",
    "ADMIN_NAME",
    "ADMIN_PASSWORD",
    "ORGANIZATION",
    "PEOPLE",
    "DemoBuilt",
    "DemoWorkspace",
    "build_demo",
    "build_workspace",
    "demo_workspaces",
    "reset_demo_database",
]

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
        members=[
            Seat("ann", "csm"),
            Seat("bob", "csm"),
            Seat("eve", "executive"),
            Seat("carol", "guest", INVITED),
            Seat("dan", "analyst", DISABLED),
        ],
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
        members=[
            Seat("ann", "csm"),
            Seat("bob", "super_manager"),
            Seat("carol", "developer", INVITED),
            Seat("dan", "csm", DISABLED),
        ],
        records=[
            Rec("account", "acme", "ann"),
            Rec("account", "globex", "bob"),
            Rec("account", "initech"),
            Rec("subscription", "acme-pro", parent=("account", "acme")),
            Rec("task", "globex-renewal", parent=("account", "globex")),
        ],
    ),
    "catalyst": Plan(
        members=[
            Seat("ann", "member"),
            Seat("bob", "viewer"),
            Seat("carol", "member", INVITED),
            Seat("dan", "viewer", DISABLED),
        ],
        records=[Rec("account", "acme"), Rec("account", "globex"), Rec("contact", "jane-doe")],
        seat_capacities={"editor": 5, "viewer": 10},
    ),
    "email_marketing": Plan(
        members=[
            Seat("ann", "campaign_manager"),
            Seat("bob", "content_editor"),
            Seat("carol", "analyst", INVITED),
            Seat("dan", "analyst", DISABLED),
        ],
        features=["basic_crm", "sms"],
    ),
    "telephony": Plan(
        members=[
            Seat("ann", "administrator"),
            Seat("bob", "analyst"),
            Seat("carol", "analyst", INVITED),
            Seat("dan", "analyst", DISABLED),
        ],
    ),
}


@dataclass(frozen=True, slots=True)
class DemoWorkspace:
    """One demo workspace as `rolegate demo` shows it."""

    workspace: Workspace
    member_ids: dict[str, str]
    """email -> member id"""
    user_ids: dict[str, str]
    """email -> user id (the login)"""
    invited: int
    disabled: int
    records: int


@dataclass(frozen=True, slots=True)
class DemoBuilt:
    organization_id: str
    workspaces: dict[str, DemoWorkspace]
    """preset -> its demo workspace, in the order of PRESET_KEYS"""
    created: list[str]
    """The presets whose workspace this run made (the others were there)."""
    api_key: str
    """A fresh organization-wide key (decide + admin), shown once."""


def demo_name(preset: str) -> str:
    return f"{load_preset(preset).name} demo"


def demo_workspaces(uow: UnitOfWork) -> tuple[dict[str, Workspace], list[Workspace]]:
    """The demo workspaces by preset, and every other workspace of the database."""
    names = {demo_name(key): key for key in PRESET_KEYS}
    found: dict[str, Workspace] = {}
    others: list[Workspace] = []
    with uow:
        for ws in uow.workspaces.all():
            key = names.get(ws.name)
            if key == ws.preset and key not in found:
                found[key] = ws
            else:
                others.append(ws)
    return found, others


def build_workspace(uow: UnitOfWork, *, preset: str, organization_id: str, policy: MailPolicy) -> Workspace:
    """The demo workspace of `preset`, one transaction per change (as an admin would)."""
    plan = PLANS[preset]
    created = create_workspace(
        uow,
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
            info = invite(
                uow, actor=ACTOR, workspace_id=ws_id, email=email, role_id=seat.role, name=name, policy=policy
            ).member
        else:
            info = add_member(uow, actor=ACTOR, workspace_id=ws_id, email=email, role_id=seat.role, name=name)
        ids[seat.person] = info.member.id
        if seat.status is DISABLED:
            disable_member(uow, actor=ACTOR, workspace_id=ws_id, member_id=info.member.id)
    for rec in plan.records:
        parent = RecordRef(*rec.parent) if rec.parent else None
        assignee = ids[rec.assignee] if rec.assignee else None
        upsert_record(uow, actor=ACTOR, workspace_id=ws_id, record=Record(rec.type, rec.id, parent, assignee))
    return created.workspace


def build_demo(uow: UnitOfWork, *, policy: MailPolicy) -> DemoBuilt:
    """The workspaces of the demo that are missing, and a fresh API key; what the demo holds."""
    found, _ = demo_workspaces(uow)
    org = (
        next(iter(found.values())).organization_id
        if found
        else create_organization(uow, actor=ACTOR, name=ORGANIZATION)
    )
    created = [key for key in PRESET_KEYS if key not in found]
    for key in created:
        found[key] = build_workspace(uow, preset=key, organization_id=org, policy=policy)
    key_text = create_api_key(uow, organization_id=org, rights={"decide", "admin"}, name="demo key")
    with uow:
        shown = {key: _shown(uow, found[key]) for key in PRESET_KEYS}
    return DemoBuilt(org, shown, created, key_text)


def _shown(uow: UnitOfWork, ws: Workspace) -> DemoWorkspace:
    infos = uow.members.all(ws.id)
    return DemoWorkspace(
        ws,
        member_ids={i.email: i.member.id for i in infos},
        user_ids={i.email: i.user_id for i in infos},
        invited=sum(i.member.status is INVITED for i in infos),
        disabled=sum(i.member.status is DISABLED for i in infos),
        records=len(uow.records.all(ws.id)),
    )


def reset_demo_database(url: str) -> None:
    """Drop every Rolegate table of the database at `url`, unless it holds workspaces
    that are not the demo's (someone's data: never dropped by a demo)."""
    if status(url).is_current:
        engine = make_engine(url)
        try:
            _, others = demo_workspaces(UnitOfWork(engine, read_only=True))
        finally:
            engine.dispose()
        if others:
            raise RolegateError(
                f"--reset would delete {count_of(len(others), 'workspace')} that {'is' if len(others) == 1 else 'are'} not the demo's (e.g. {others[0].name!r})",
                fix="Run the demo on a database of its own (--url sqlite:///./demo.db).",
            )
    downgrade(url, "base")
