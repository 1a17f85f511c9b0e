"""Bad input is never a 500 (issue 12, item 10), on SQLite and on PostgreSQL (where a
NUL byte or a string longer than its column is a database error): every parameter and
every body field of every API operation, and every field of every admin UI form, is
sent a NUL byte, the longest string it allows and one longer, a huge number, an
out-of-range date, invalid UTF-8, the wrong JSON type. Each answer is a 4xx; a 422
names the field; a form comes back with its field's error, not an error page.

The operations and their fields are read from the OpenAPI document, so a new route or
field is fuzzed the day it is added. Requests reach real rows: path parameters are the
ids of a real workspace, role, member, record, field, invitation and user.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.engine import Record
from rolegate.services.api_keys import create_api_key
from rolegate.services.invitations import invite
from rolegate.services.records import upsert_record
from rolegate.services.roles import create_role
from rolegate.services.sites import add_site_administrator
from rolegate.services.workspaces import create_organization, create_workspace
from tests.pg import postgres_url

BACKENDS = ("sqlite", "postgresql")


@dataclass
class Env:
    rolegate: Rolegate
    portal: BlockingPortal
    client: httpx.AsyncClient
    key: str
    ids: dict[str, str]
    """path parameter -> a real id"""

    def send(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None, raw: bytes | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}", "Rolegate-Actor": self.ids["actor"], "Content-Type": "application/json"}
        headers["Rolegate-Workspace"] = self.ids["workspace_id"]  # the AuthZEN routes' workspace (an organization's key)
        content = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        return self.portal.call(lambda: self.client.request(method, path, params=params, content=content, headers=headers))


def _build(url: str, tmp: Any) -> Rolegate:
    rg = bootstrap(Settings(database_url=url, listen=False, secret_key="test"))
    if url.startswith("sqlite"):
        rg.create_tables()
    return rg


@pytest.fixture(scope="module", params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """One workspace per backend for the module: bad input changes nothing, so the
    requests do not need a fresh database each."""
    with _database(request.param, tmp_path_factory) as url:
        rg = _build(url, tmp_path_factory)
        platform = Actor.system("test")
        org = create_organization(rg.uow(), actor=platform, name="Acme")
        created = create_workspace(rg.uow(), actor=platform, preset="natero", name="Bad input", owner_email="owner@bad.test", organization_id=org)
        ws, owner = created.workspace.id, created.owner.member.id
        actor = Actor.member(owner)
        role = create_role(rg.uow(), actor=actor, workspace_id=ws, name="Custom", grants=["accounts.csm_seat"], landing_page="my_accounts").id
        invited = invite(rg.uow(), actor=actor, workspace_id=ws, email="invited@bad.test", role_id=role, policy=rg.mail_policy)
        upsert_record(rg.uow(), actor=actor, workspace_id=ws, record=Record("account", "acme", None, owner))
        key = create_api_key(rg.uow(), organization_id=org, rights={"admin", "decide"}, name="test")
        ids = {
            "workspace_id": ws,
            "organization_id": org,
            "role_id": role,
            "member_id": invited.member.member.id,
            "invitation_id": invited.invitation.id,
            "user_id": created.owner.user_id,
            "record_type": "account",
            "record_id": "acme",
            "object_key": "account",
            "name": "name",
            "token": "not-a-token",
            "actor": owner,
        }
        app = create_app(rg)
        with start_blocking_portal() as portal:
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
            try:
                yield Env(rg, portal, client, key, ids)
            finally:
                portal.call(client.aclose)
                rg.close()


class _database:
    def __init__(self, backend: str, tmp: pytest.TempPathFactory) -> None:
        self.backend = backend
        self.tmp = tmp
        self._pg: Any = None

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp.mktemp('bad')}/t.db"
        self._pg = postgres_url(migrate=True)
        url: str = self._pg.__enter__()
        return url

    def __exit__(self, *exc: object) -> None:
        if self._pg is not None:
            self._pg.__exit__(*exc)


# -- the OpenAPI document as a table of fields ----------------------------------------------


def _document() -> dict[str, Any]:
    rg = bootstrap(Settings(database_url="sqlite:///:memory:", listen=False, secret_key="test"))
    try:
        doc: dict[str, Any] = create_app(rg).openapi()
    finally:
        rg.close()
    return doc


DOC = _document()
COMPONENTS: dict[str, Any] = DOC["components"]["schemas"]


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def options(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a schema."""
    schema = resolve(schema)
    alternatives = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return [resolve(s) for s in alternatives if resolve(s).get("type") != "null"]


def sample(schema: dict[str, Any]) -> Any:
    """A small valid value (required properties only)."""
    s = options(schema)[0] if options(schema) else {}
    if "enum" in s:
        return s["enum"][0]
    if "const" in s:
        return s["const"]
    kind = s.get("type")
    if kind == "object":
        props = s.get("properties", {})
        return {name: sample(props[name]) for name in s.get("required", [])}
    if kind == "array":
        return [sample(s.get("items", {})) for _ in range(s.get("minItems", 0))]
    if kind == "integer":
        return max(int(s.get("minimum", 1)), 1)
    if kind == "boolean":
        return False
    if kind == "string":
        if s.get("format") == "date-time":
            return "2024-01-01T00:00:00Z"
        if "pattern" in s and "A-Za-z0-9" in s["pattern"]:
            return "token"
        return "x" * max(int(s.get("minLength", 1)), 1)
    return None


Leaf = tuple[tuple[str | int, ...], dict[str, Any]]


def leaves(schema: dict[str, Any], at: tuple[str | int, ...] = (), depth: int = 0) -> Iterator[Leaf]:
    """Every string and integer a body may carry, with its path (arrays: item 0;
    dictionaries: a key `k` and its value)."""
    for s in options(schema):
        kind = s.get("type")
        if kind in ("string", "integer") and "enum" not in s:
            yield at, s
        elif kind == "object" and depth < 4:
            for name, prop in s.get("properties", {}).items():
                yield from leaves(prop, (*at, name), depth + 1)
            extra = s.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                names = s.get("propertyNames", {"type": "string", "maxLength": 64})
                yield (*at, "\x00key"), names
                yield from leaves(extra, (*at, "k"), depth + 1)
        elif kind == "array" and depth < 4:
            yield from leaves(s.get("items", {}), (*at, 0), depth + 1)


def place(schema: dict[str, Any], at: tuple[str | int, ...], value: Any) -> Any:
    """A sample of `schema` with `value` at path `at` (the containers on the way made)."""
    if not at:
        return value
    head, rest = at[0], at[1:]
    for s in options(schema):
        kind = s.get("type")
        if isinstance(head, int) and kind == "array":
            return [place(s.get("items", {}), rest, value)]
        if isinstance(head, str) and kind == "object":
            base = sample(s)
            if head == "\x00key":
                extra = s.get("additionalProperties", {})
                return {**base, value: sample(extra)}
            props = s.get("properties", {})
            if head in props:
                return {**base, head: place(props[head], rest, value)}
            extra = s.get("additionalProperties")
            if isinstance(extra, dict):
                return {**base, "k": place(extra, rest, value)}
    raise AssertionError(f"no way to {at}")


def bad_values(s: dict[str, Any], where: str) -> Iterator[tuple[str, Any, bool]]:
    """(label, value, refused) of what to try on one leaf: `refused` values must get a
    4xx naming the field; the others (the longest string allowed, a date at the edge
    of the calendar) only must not fail."""
    if s.get("type") in ("integer", "number"):
        yield "huge", 2**64 if s["type"] == "integer" else 1e308, True
        yield "negative huge", -(2**63) - 1, True
        yield "NUL", "1\x00", True
        if where == "body":
            yield "wrong type", [12], True
        return
    yield "NUL", "a\x00b", True
    if s.get("format") == "date-time":
        yield "year 0", "0000-01-01T00:00:00Z", True
        yield "year 99999", "99999-01-01T00:00:00Z", True
        yield "east of year 1", "0001-01-01T00:00:00+14:00", False
        yield "west of year 9999", "9999-12-31T23:59:59-14:00", False
        return
    longest = int(s.get("maxLength", 100_000))
    yield "longest", "é" * longest, False
    yield "one too long", "x" * (longest + 1), True
    if where == "body":
        yield "wrong type", 12, True


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), path, op) for path, item in DOC["paths"].items() for m, op in item.items() if path.startswith(("/v1/", "/access/"))]


def concrete(env: Env, path: str, override: dict[str, str] | None = None) -> str:
    values = {**env.ids, **(override or {})}
    return re.sub(r"\{([^}]+)\}", lambda m: _quote(values.get(m.group(1), "x")), path)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


CASES = []
for _method, _path, _op in operations():
    for _param in _op.get("parameters", []):
        if _param["in"] in ("path", "query"):
            _schema = options(_param["schema"])[0] if options(_param["schema"]) else resolve(_param["schema"])
            if "enum" in _schema:
                _schema = {"type": "string", "maxLength": max(len(str(e)) for e in _schema["enum"])}
            for _label, _value, _refused in bad_values(_schema, _param["in"]):
                if _param["in"] == "path" and not isinstance(_value, str):
                    continue
                _id = f"{_method} {_path} {_param['name']} {_label}"
                CASES.append(pytest.param(_method, _path, _param["in"], (_param["name"],), _value, _refused, id=_id))
    _body = _op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if _body is not None:
        for _at, _leaf in leaves(_body):
            for _label, _value, _refused in bad_values(_leaf, "body"):
                if _at and _at[-1] == "\x00key" and not isinstance(_value, str):
                    continue
                _where = ".".join(str(x) for x in _at).replace("\x00key", "<key>")
                CASES.append(pytest.param(_method, _path, "body", _at, _value, _refused, id=f"{_method} {_path} body.{_where} {_label}"))


def _body_schema(method: str, path: str) -> dict[str, Any] | None:
    op = DOC["paths"][path][method.lower()]
    schema: dict[str, Any] | None = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    return schema


def _named(problem: dict[str, Any], where: str, at: tuple[str | int, ...]) -> bool:
    """A 422 names the field: an error's `loc` ends with (or passes through) its name."""
    names = {str(x) for x in at if isinstance(x, str) and x not in ("\x00key", "k")}
    for error in problem.get("errors", []):
        loc = [str(x) for x in error["loc"]]
        if loc[:1] == [where if where != "body" else "body"] and (not names or names & set(loc)):
            return True
    return False


@pytest.mark.parametrize(("method", "path", "where", "at", "value", "refused"), CASES)
def test_bad_input_is_a_4xx_naming_the_field(
    env: Env, method: str, path: str, where: str, at: tuple[str | int, ...], value: Any, refused: bool
) -> None:
    body_schema = _body_schema(method, path)
    body = sample(body_schema) if body_schema is not None else None
    params = None
    url = concrete(env, path)
    if where == "path":
        url = concrete(env, path, {at[0]: value})  # type: ignore[dict-item]
    elif where == "query":
        params = {str(at[0]): value}
    else:
        assert body_schema is not None
        body = place(body_schema, at, value)
    r = env.send(method, url, params=params, body=body)
    assert r.status_code < 500, (r.status_code, r.text[:500])
    if not refused:
        return
    assert r.status_code >= 400, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json"), r.text[:300]
    problem = r.json()
    if r.status_code == 422 and problem["code"] == "request_invalid" and where != "path":
        assert _named(problem, where, at), problem


def test_invalid_utf8_and_deep_json_are_4xx(env: Env) -> None:
    ws = env.ids["workspace_id"]
    for raw in (b'{"name": "\xff\xfe"}', b"[" * 100_000 + b"]" * 100_000, b'{"name": "x"' + b", " * 10 + b"}", b"\x00"):
        for path in (f"/v1/workspaces/{ws}/roles", f"/v1/workspaces/{ws}/check", "/v1/password-resets"):
            r = env.send("POST", path, raw=raw)
            assert 400 <= r.status_code < 500, (path, raw[:20], r.status_code, r.text[:300])
            assert r.headers["content-type"].startswith("application/problem+json")


def test_a_valid_write_at_every_column_length_is_stored(env: Env) -> None:
    """The longest strings the API takes fit their columns on both databases: a role
    with a 200-character name and a 2,000-character description; an invitation to a
    320-character email with a 200-character name (non-ASCII: PostgreSQL counts
    characters, SQLite stores what it gets)."""
    ws = env.ids["workspace_id"]
    r = env.send("POST", f"/v1/workspaces/{ws}/roles", body={"name": "ö" * 199 + "!", "description": "ü" * 2000, "grants": ["accounts.csm_seat"], "landing_page": "my_accounts"})
    assert r.status_code == 201, r.text[:300]
    email = "a" * 64 + "@" + "b" * 250 + ".test"  # 320 characters: the longest the API takes
    assert len(email) == 320
    r2 = env.send("POST", f"/v1/workspaces/{ws}/members", body={"email": email, "role": r.json()["role"]["id"], "name": "ñ" * 200})
    assert r2.status_code == 201, r2.text[:300]
    assert r2.json()["member"]["email"] == email


def test_problem_fields_deep_copy_helper() -> None:
    """`place` builds a fresh value each time (the table never shares a mutated body)."""
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    one = place(schema, ("a",), "x")
    two = copy.deepcopy(one)
    assert one == two == {"a": "x"}


# -- the admin UI's forms ---------------------------------------------------------------------


SITE_ADMIN_EMAIL = "site-admin@bad.test"


@dataclass
class Site:
    admin: Any
    """logged in as the workspace's administrator"""
    anonymous: Any
    """no session: the forms anyone may post (an accepted invitation ends a session)"""
    ids: dict[str, str]
    site_admin: Any = None
    """logged in as a site administrator of the organization: the site's own pages"""

    def client(self, path: str) -> Any:
        if path.startswith(("/sites/", "/w/{ws}/webhooks")) and self.site_admin is not None:
            return self.site_admin
        if path.startswith(("/w/", "/account/", "/sites/")):
            return self.admin
        # Anonymous again, with a fresh CSRF token: an accepted invitation signs its
        # person in (issue 15), a reset ends the session.
        self.anonymous.client.cookies.clear()
        self.anonymous.get("/login")
        return self.anonymous


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The natero demo workspace (its administrator logged in), a custom role, an
    invited member with their link, an account; on each backend."""
    from rolegate.cli.demo import ACTOR, ADMIN_EMAIL, ADMIN_PASSWORD, build_workspace
    from tests.web.conftest import Web

    with _database(request.param, tmp_path_factory) as url:
        rg = _build(url, tmp_path_factory)
        org = create_organization(rg.uow(), actor=ACTOR, name="Demo")
        ws = build_workspace(rg, "natero", org).id
        with rg.uow() as uow:
            members = uow.members.all(ws)
        owner = next(m.member.id for m in members if m.email == ADMIN_EMAIL)
        actor = Actor.member(owner)
        role = create_role(rg.uow(), actor=actor, workspace_id=ws, name="Web custom", grants=["accounts.csm_seat"], landing_page="my_accounts").id
        invited = invite(rg.uow(), actor=actor, workspace_id=ws, email="web-invited@bad.test", role_id=role, policy=rg.mail_policy)
        upsert_record(rg.uow(), actor=actor, workspace_id=ws, record=Record("account", "web-acme", None, owner))
        add_site_administrator(rg.uow(), actor=ACTOR, organization_id=org, email=SITE_ADMIN_EMAIL, name="Site admin", password=ADMIN_PASSWORD)
        ids = {"org": org, "ws": ws, "role": role, "member": invited.member.member.id, "owner": owner, "token": invited.token, "record": "web-acme"}
        app = create_app(rg)
        with start_blocking_portal() as portal:
            clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test") for _ in range(3)]
            try:
                admin = Web(portal, clients[0])
                admin.login(ADMIN_EMAIL, ADMIN_PASSWORD)
                site_admin = Web(portal, clients[2])
                site_admin.login(SITE_ADMIN_EMAIL, ADMIN_PASSWORD)
                yield Site(admin, Web(portal, clients[1]), ids, site_admin)
            finally:
                for client in clients:
                    portal.call(client.aclose)
                rg.close()


FORMS: list[tuple[str, dict[str, str]]] = [
    ("/login", {"email": "nobody@bad.test", "password": "wrong", "next": "/"}),
    ("/password-reset", {"email": "nobody@bad.test"}),
    ("/password-reset/{token}", {"password": "a-new-password", "confirm": "a-new-password"}),
    ("/invitations/{token}", {"password": "a-new-password", "confirm": "a-new-password", "name": "Ann"}),
    ("/w/{ws}/roles", {"name": "Form role", "description": "d", "grants": "accounts.csm_seat", "landing_page": "my_accounts"}),
    ("/w/{ws}/roles/new/preview", {"name": "Form role", "description": "d", "grants": "accounts.csm_seat", "landing_page": "my_accounts"}),
    ("/w/{ws}/roles/{role}", {"name": "Web custom", "description": "d", "grants": "accounts.csm_seat", "landing_page": "my_accounts"}),
    ("/w/{ws}/roles/{role}/preview", {"name": "Web custom", "description": "d", "grants": "accounts.csm_seat", "landing_page": "my_accounts"}),
    ("/w/{ws}/roles/{role}/copy", {"targets": "{ws}"}),
    ("/w/{ws}/roles/{role}/fields", {"bulk": "account:read"}),
    ("/w/{ws}/team/invite", {"email": "new@bad.test", "role": "{role}", "name": "New"}),
    ("/w/{ws}/team/{member}/role", {"role": "{role}"}),
    ("/w/{ws}/team/{member}/transfer", {"to": "{owner}"}),
    ("/w/{ws}/team/ownership", {"to": "{owner}", "new_role": "{role}"}),  # to oneself: refused by its rule, so the owner stays
    ("/w/{ws}/members/{member}/record", {"name": "Ann", "email": "web-invited@bad.test"}),
    ("/w/{ws}/records", {"email": "new-record@bad.test", "name": "New record"}),
    ("/w/{ws}/accounts/{record}/assignee", {"assignee": "{owner}", "back": ""}),
    ("/w/{ws}/audit/retention", {"days": "30"}),
    ("/account/email", {"new_email": "new-login@bad.test", "password": "not the password"}),  # refused by the password check
    ("/sso/start", {"email": "nobody@bad.test", "next": "/"}),  # no SSO for bad.test: the form again (422)
    ("/w/{ws}/webhooks", {"url": "https://hooks.example.com/rolegate", "description": "d", "event_types": "role.update"}),
    ("/sites/{org}/sso", {"action": "claim", "domain": "bad-input.test", "issuer": "", "client_id": "", "client_secret": "", "workspace_id": "{ws}", "role_id": ""}),
]
"""Each form POST of the admin UI and a valid set of its fields (`test_every_form_is_here`
keeps the table complete)."""

WEB_BAD: list[tuple[str, str]] = [
    ("NUL", "a\x00b"),
    ("too long", "x" * 5000),
    ("huge number", "9" * 30),
    ("negative", "-1"),
    ("far date", "99999-01-01"),
]

WEB_CASES = [
    pytest.param(path, field, value, id=f"{path} {field} {label}") for path, fields in FORMS for field in fields for label, value in WEB_BAD
]


def _fill(text: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], text)


def test_every_form_is_here() -> None:
    from tests.security.test_body_limits import READING

    forms = {path for method, path in READING if not path.startswith(("/v1/", "/access/"))}
    names = {re.sub(r"\{\w+\}", "{}", p) for p in forms}
    ours = {re.sub(r"\{\w+\}", "{}", p) for p, _ in FORMS}
    # Forms without a field to fuzz: only their CSRF token is posted.
    buttons = {"/logout", "/w/{}/roles/{}/clone", "/w/{}/roles/{}/delete", "/w/{}/team/{}/disable", "/w/{}/team/{}/enable", "/w/{}/team/{}/reset"}
    buttons |= {"/w/{}/team/{}/delete", "/w/{}/members/{}/record/delete"}
    buttons |= {"/w/{}/team/invitations/{}/resend", "/w/{}/team/invitations/{}/revoke", "/email-change/{}"}
    buttons |= {"/w/{}/webhooks/{}/{}"}  # enable, disable, rotate, delete
    buttons |= {"/w/{}/upgrade/dismiss"}  # the schema upgrade notice
    buttons |= {"/w/{}/features/{}"}  # turn a feature on or off (tests/web/test_features_page.py posts bad values)
    assert sorted(names - ours - buttons) == []


@pytest.mark.parametrize(("path", "field", "value"), WEB_CASES)
def test_a_bad_form_field_is_never_a_500(site: Site, path: str, field: str, value: str) -> None:
    fields = {k: _fill(v, site.ids) for k, v in FORMS[[p for p, _ in FORMS].index(path)][1].items()}
    fields[field] = value
    r = site.client(path).post(_fill(path, site.ids), fields)
    assert r.status_code < 500, (r.status_code, r.text[:2000])
    if r.status_code == 422:  # a field the model refuses: the form names it
        assert field in r.text, r.text[:2000]


@pytest.mark.parametrize(
    "url",
    [
        "/w/a%00b/team",
        "/w/" + "x" * 300 + "/roles",
        "/w/{ws}/roles/a%00b",
        "/w/{ws}/team?role=a%00b",
        "/w/{ws}/team/{member}/role?role=a%00b",
        "/w/{ws}/team/{member}/role/preview?role=" + "x" * 300,
        "/w/{ws}/team/a%00b/transfer",
        "/w/{ws}/team/ownership?to=a%00b",
        "/w/{ws}/audit?actor=a%00b",
        "/w/{ws}/audit?until=9999-12-31",
        "/w/{ws}/audit?since=0000-01-01",
        "/w/{ws}/accounts/a%00b",
        "/invitations/a%00b",
        "/password-reset/a%00b",
    ],
)
def test_a_bad_page_url_is_never_a_500(site: Site, url: str) -> None:
    r = site.client(url).get(_fill(url, site.ids))
    assert 200 <= r.status_code < 500, (r.status_code, r.text[:1000])


@pytest.mark.parametrize("path", [p for p, _ in FORMS])
def test_each_form_of_the_table_is_really_posted(site: Site, path: str) -> None:
    """The valid fields of the table get past the CSRF check and the login (the fuzzing
    above reaches each form's handling, not an early refusal)."""
    fields = {k: _fill(v, site.ids) for k, v in FORMS[[p for p, _ in FORMS].index(path)][1].items()}
    r = site.client(path).post(_fill(path, site.ids), fields)
    assert r.status_code not in (403, 404, 500), (r.status_code, r.text[:1000])
    if path.startswith("/w/"):
        assert "/login?next=" not in r.headers.get("location", "")
