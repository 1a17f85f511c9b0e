"""The Todo example (examples/todo) in a workspace, built through the API as the Todo
backend would: the schema, the interop's five users as members, their todos as records
assigned to their owners, and a decide key of that workspace alone.

The product `todo` is registered from `examples/todo/schema.yaml` first, as a SaaS
registers its own product (`rolegate schema register`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from rolegate.bootstrap import Rolegate
from rolegate.domain.schema import ProductSchema
from rolegate.domain.workspace import Actor
from rolegate.presets import load_schema_file
from rolegate.services.api_keys import create_api_key
from rolegate.services.schema_upgrade import register_product
from tests.api.conftest import Api, Tenant, make_tenant

ROOT = Path(__file__).resolve().parents[2]
TODO = ROOT / "examples" / "todo"
HERE = Path(__file__).resolve().parent
OWNER_EMAIL = "owner@todo.example"


@cache
def todo_schema() -> ProductSchema:
    return load_schema_file(TODO / "schema.yaml")


def todo_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TODO / "todos.json").read_text(encoding="utf-8"))
    return data


def interop_subjects() -> dict[str, str]:
    """The interop's subject ids (Dex PIDs) -> the user's email: its PIP table."""
    data = json.loads((HERE / "subjects.json").read_text(encoding="utf-8"))
    return {pid: s["email"] for pid, s in data["subjects"].items()}


@dataclass(frozen=True)
class TodoApp:
    tenant: Tenant
    members: dict[str, str]
    """email -> member id"""
    decide: Api
    """The workspace's own decide key (no `Rolegate-Workspace` needed)."""


def build_todo(api: Api, rolegate: Rolegate, org: str) -> TodoApp:
    register_product(rolegate.uow(), actor=Actor.system("test"), source=(TODO / "schema.yaml").read_text(encoding="utf-8"))
    t = make_tenant(api, "todo", owner_email=OWNER_EMAIL)
    data = todo_data()
    roles: dict[str, str] = {}
    for role in data["custom_roles"]:
        body = {k: role[k] for k in ("name", "level", "grants", "description")}
        r = t.api.post(t.url("/roles"), json=body)
        assert r.status_code == 201, r.text
        roles[role["key"]] = r.json()["role"]["id"]
    members: dict[str, str] = {}
    for m in data["members"]:
        r = t.api.post(t.url("/members"), json={"email": m["email"], "role": roles.get(m["role"], m["role"])})
        assert r.status_code == 201, r.text
        member = r.json()["member"]["id"]
        assert t.api.post(t.url(f"/members/{member}/activate")).status_code == 200
        members[m["email"]] = member
    for todo in data["todos"]:
        r = t.api.put(t.url(f"/records/todo/{todo['id']}"), json={"assignee": members[todo["owner"]]})
        assert r.status_code == 200, r.text
    key = create_api_key(rolegate.uow(), organization_id=org, workspace_id=t.id, rights={"decide"}, name="todo backend")
    return TodoApp(t, members, api.as_(key=key).without_actor())
