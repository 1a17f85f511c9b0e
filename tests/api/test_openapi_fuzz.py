"""Schemathesis against the app's own OpenAPI document, in process.

Every operation gets generated requests (valid and invalid) with a valid API key, on
a real workspace acting as its owner, so changes really happen. Asserted per request:
no 5xx, the status, content type, headers and body conform to the document; and the
audit log stays whole: intact chain, one event per revision (no change without its
audit event). The short run is part of the suite; `RUN_SLOW=1` runs the long one
(`FUZZ_EXAMPLES`, default 500 per operation, on every preset).

Each operation is a test of its own, on a fresh database, driven by Hypothesis through
`operation.as_strategy()` (positive and negative cases) rather than schemathesis'
pytest plugin: its fixture-based loader (`schemathesis.pytest.from_fixture`) fails on
pytest 9, and a schema loaded at import could not get a fresh database per test.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.engine import Record
from rolegate.presets import PRESET_KEYS, load_preset
from rolegate.services.api_keys import create_api_key
from rolegate.services.audit import verify_chain
from rolegate.services.members import invite_member
from rolegate.services.records import upsert_record
from rolegate.services.roles import create_role
from rolegate.services.workspaces import create_organization, create_workspace
from rolegate.store.migrations import upgrade
from tests.api.app_routes import api_document, api_operations

SHORT_EXAMPLES = 25
"""Per operation on the first short preset (Natero)."""
SHORT_EXAMPLES_AGAIN = 10
"""Per workspace operation on the other short presets: the same code with another
product schema, fewer cases to keep the suite's run time-boxed."""
LONG_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))


@dataclass(frozen=True)
class FuzzEnv:
    rolegate: Rolegate
    workspace_id: str
    owner: str
    key: str
    role_id: str
    member_id: str
    organization_id: str
    user_id: str


SHORT_PRESETS = ("natero", "telephony")
"""Natero has records, assignments and a level that follows a permission (N2);
telephony has chosen levels (T5) and no records: between them, every code path kind."""

CUSTOM_ROLE: dict[str, dict[str, Any]] = {
    "natero": {"grants": ["accounts.csm_seat"], "landing_page": "my_accounts"},
    "customersuccessbox": {},
    "catalyst": {"level": "standard"},
    "email_marketing": {"level": "account_administrator"},
    "telephony": {"level": "analyst", "grants": ["numbers.view"]},
}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the head migration, copied for each test: `/readyz` answers
    200 only on a migrated database, and a copy costs less than creating the tables."""
    path = tmp_path_factory.mktemp("fuzz-template") / "migrated.db"
    upgrade(f"sqlite:///{path}")
    return path


def make_env(tmp_path: Path, preset: str, migrated: Path) -> FuzzEnv:
    """A workspace of `preset` with its owner, a custom role (where the product has
    them) held by an invited member, an assigned record (where there are some), a key."""
    shutil.copyfile(migrated, tmp_path / "fuzz.db")
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/fuzz.db", listen=False))
    platform = Actor.system("fuzz")
    org = create_organization(rg.uow(), actor=platform, name="Fuzz")
    created = create_workspace(
        rg.uow(), actor=platform, preset=preset, name="Fuzz", owner_email="owner@fuzz.test", organization_id=org
    )
    ws, owner, user = created.workspace.id, created.owner.member.id, created.owner.user_id
    actor = Actor.member(owner)
    schema = load_preset(preset)
    role_id = next(iter(schema.system_roles))
    if schema.custom_roles_allowed:
        role_id = create_role(rg.uow(), actor=actor, workspace_id=ws, name="Fuzzed", **CUSTOM_ROLE[preset]).id
    member = invite_member(rg.uow(), actor=actor, workspace_id=ws, email="member@fuzz.test", role_id=role_id).member.id
    top = next((o for o in schema.objects.values() if o.parent is None and o.assignable), None)
    if top is not None:
        upsert_record(rg.uow(), actor=actor, workspace_id=ws, record=Record(top.key, "rec-1", None, owner))
    key = create_api_key(rg.uow(), organization_id=org, rights={"admin", "decide"}, name="fuzz")
    return FuzzEnv(rg, ws, owner, key, role_id, member, org, user)


OPERATIONS = [op for op in api_operations() if not op[1].endswith("/changes/stream")]
"""Every operation of the app's OpenAPI document: a new route is fuzzed as it lands.
Not the change feed's streams: a valid request is an endless answer (Server-Sent
Events); their parameters are the feed pages' (fuzzed here), their behaviour is
tests/api/test_changes_stream.py's, and tests/security/test_bad_input.py refuses
their bad input."""

WORKSPACE = "/v1/workspaces/{workspace_id}"

PUBLIC = frozenset(
    {
        ("POST", "/v1/email-changes"),
        ("POST", "/v1/email-changes/{token}"),
        ("POST", "/v1/invitations/{token}/accept"),
        ("POST", "/v1/password-resets"),
        ("POST", "/v1/password-resets/{token}"),
    }
)
"""Operations a person calls with a link or a login instead of an API key: answering
without one is their point, so schemathesis' `ignored_auth` check is off for them. The
document still marks them ApiKey (api/app.py gives every /v1/ operation that scheme):
`test_public_operations_need_no_api_key_in_the_document` keeps that known."""


def audit_is_whole(env: FuzzEnv) -> None:
    report = verify_chain(env.rolegate.uow(), workspace_id=env.workspace_id)
    assert report.intact, str(report)
    with env.rolegate.uow() as uow:
        revision = uow.workspaces.revision(env.workspace_id)
    assert revision == report.events, f"revision {revision} but {report.events} audit events"


def fuzz(env: FuzzEnv, method: str, path: str, examples: int, *, short: bool) -> None:
    """`short`: derandomized (the same cases every run) and no shrinking (a failure shows
    the case as found), to keep the suite's run time-boxed."""
    config = SchemathesisConfig.from_dict(
        {
            "headers": {"Authorization": f"Bearer {env.key}"},
            # A schema-valid request may still name an action, object type or preset the
            # workspace's product schema lacks: 422 (unknown_action, invalid_record,
            # schema_invalid), which OpenAPI cannot know in advance.
            # A link's token may be unknown or used (410), a login's password wrong (400),
            # and repeated attempts on the login and reset doors are throttled (429).
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "410", "422", "429"]
                },
                "ignored_auth": {"enabled": (method, path) not in PUBLIC},
            },
        }
    )
    # The document is the app's (cached: generating it is most of a short test's cost);
    # requests go to this test's app, as `from_asgi` would send them.
    schema = schemathesis.openapi.from_dict(api_document(), config=config)
    schema.app = create_app(env.rolegate)
    operation = schema[path][method]
    fixed: dict[str, Any] = {}
    # Real ids where the path names them, so requests reach real roles and members.
    known = {
        "workspace_id": env.workspace_id,
        "role_id": env.role_id,
        "member_id": env.member_id,
        "organization_id": env.organization_id,
        "user_id": env.user_id,
    }
    path_parameters = {name: value for name, value in known.items() if f"{{{name}}}" in path}
    if path_parameters:
        fixed["path_parameters"] = path_parameters
    if any(p.name == "Rolegate-Actor" for p in operation.headers):
        fixed["headers"] = {"Rolegate-Actor": env.owner}
    cases = st.one_of([operation.as_strategy(generation_mode=mode, **fixed) for mode in GenerationMode])

    @given(case=cases)
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=short,
        database=None,
        phases=[Phase.explicit, Phase.generate] if short else list(Phase),
    )
    def run(case: Any) -> None:
        case.call_and_validate()
        audit_is_whole(env)

    run()


def cases(presets: tuple[str, ...]) -> list[Any]:
    return [
        pytest.param(preset, method, path, id=f"{preset}-{method}-{path}")
        for preset in presets
        for method, path in OPERATIONS
    ]


def short_cases() -> list[Any]:
    """Every operation on the first short preset; the workspace's operations (where the
    product schema matters) on the others too, with fewer examples."""
    first, *others = SHORT_PRESETS
    out = [
        pytest.param(first, method, path, SHORT_EXAMPLES, id=f"{first}-{method}-{path}") for method, path in OPERATIONS
    ]
    for preset in others:
        out += [
            pytest.param(preset, method, path, SHORT_EXAMPLES_AGAIN, id=f"{preset}-{method}-{path}")
            for method, path in OPERATIONS
            if path == WORKSPACE or path.startswith(WORKSPACE + "/")
        ]
    return out


@pytest.mark.parametrize(("preset", "method", "path", "examples"), short_cases())
def test_api_conforms_to_its_openapi(
    tmp_path: Path, migrated: Path, preset: str, method: str, path: str, examples: int
) -> None:
    env = make_env(tmp_path, preset, migrated)
    try:
        fuzz(env, method, path, examples, short=True)
    finally:
        env.rolegate.close()


def test_public_operations_need_no_api_key_in_the_document() -> None:
    paths = api_document()["paths"]
    assert {op: paths[op[1]][op[0].lower()].get("security") for op in sorted(PUBLIC)} == {
        op: [] for op in sorted(PUBLIC)
    }


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("RUN_SLOW") != "1", reason="long fuzzing run: set RUN_SLOW=1")
@pytest.mark.parametrize(("preset", "method", "path"), cases(PRESET_KEYS))
def test_api_conforms_to_its_openapi_long(tmp_path: Path, migrated: Path, preset: str, method: str, path: str) -> None:
    env = make_env(tmp_path, preset, migrated)
    try:
        fuzz(env, method, path, LONG_EXAMPLES, short=False)
    finally:
        env.rolegate.close()
