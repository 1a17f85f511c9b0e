"""The demo data (`rolegate demo`: one workspace per preset) on SQLite, built once per
test session into a template file that each test copies (a fresh database per test,
without rebuilding five workspaces through the services every time)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.cli.demo import ACTOR, ADMIN_EMAIL, ADMIN_PASSWORD, ORGANIZATION, build_workspace, find_demo
from rolegate.config import Settings
from rolegate.engine import Record
from rolegate.presets import PRESET_KEYS
from rolegate.services.members import add_member
from rolegate.services.records import upsert_record
from rolegate.services.workspaces import create_organization

__all__ = ["ADMIN_EMAIL", "ADMIN_PASSWORD", "CSM_EMAIL", "CSM_PASSWORD", "Demo", "build_template", "open_copy"]

CSM_EMAIL = "nina@example.com"
CSM_PASSWORD = "nina-is-a-csm"
"""A user with one membership (a Natero CSM with an account assigned): lands on her
role's landing page (N4) and may not see the roles (N12)."""


@dataclass(frozen=True)
class Demo:
    rolegate: Rolegate
    workspaces: dict[str, str]
    """preset -> workspace id"""

    def ws(self, preset: str) -> str:
        return self.workspaces[preset]

    def member(self, preset: str, email: str) -> str:
        with self.rolegate.uow() as uow:
            for info in uow.members.all(self.ws(preset)):
                if info.email == email:
                    return info.member.id
        raise KeyError(email)


def build_template(path: Path) -> None:
    rg = bootstrap(Settings(database_url=f"sqlite:///{path}", listen=False))
    try:
        rg.create_tables()
        org = create_organization(rg.uow(), actor=ACTOR, name=ORGANIZATION)
        for key in PRESET_KEYS:
            build_workspace(rg, key, org)
        natero = find_demo(rg)[0]["natero"].id
        nina = add_member(rg.uow(), actor=ACTOR, workspace_id=natero, email=CSM_EMAIL, role_id="csm", name="Nina Novak", password=CSM_PASSWORD)
        upsert_record(rg.uow(), actor=ACTOR, workspace_id=natero, record=Record("account", "umbrella", assignee=nina.member.id))
    finally:
        rg.close()


SECRET_KEY = "test-secret"


def open_copy(template: Path, target: Path) -> Demo:
    shutil.copyfile(template, target)
    rg = bootstrap(Settings(database_url=f"sqlite:///{target}", listen=False, secret_key=SECRET_KEY))
    found, _ = find_demo(rg)
    return Demo(rg, {key: ws.id for key, ws in found.items()})
