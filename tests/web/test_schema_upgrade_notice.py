"""After a schema upgrade (issue 19) the workspace's pages load a banner ("New
permissions available: review your custom roles") linking to what changed; a member
who dismisses it no longer sees it; a workspace still on version 1 loads no banner."""

from __future__ import annotations

from pathlib import Path

import pytest

from rolegate.domain.errors import PermissionDeniedError
from rolegate.domain.workspace import Actor
from rolegate.services import schema_upgrade
from tests.web.conftest import Web, one, soup
from tests.web.demo import Demo

V2 = (Path(__file__).resolve().parents[1] / "fixtures" / "upgrades" / "telephony_v2.yaml").read_text(encoding="utf-8")


def test_the_banner_shows_what_changed_until_dismissed(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    assert "/upgrade/notice" not in admin.get(f"/w/{ws}/roles").text  # version 1: nothing to load
    schema_upgrade.apply_upgrade(demo.rolegate.uow, actor=Actor.system("test"), source=V2)
    page = soup(admin.get(f"/w/{ws}/roles"))
    assert page.select_one(f'[hx-get="/w/{ws}/upgrade/notice"]') is not None
    banner = soup(admin.get(f"/w/{ws}/upgrade/notice", htmx=True))
    text = one(banner, "#upgrade-notice").get_text(" ", strip=True)
    assert "New permissions available" in text
    assert "View invoices" in text
    changes = soup(admin.get(f"/w/{ws}/upgrade"))
    assert "invoices.view" in one(changes, "ul.new-permissions").get_text()
    assert "Analyst" in one(changes, "table.upgrade-roles").get_text()  # its license was renamed
    r = admin.post(f"/w/{ws}/upgrade/dismiss")
    assert r.status_code == 303
    assert admin.get(f"/w/{ws}/upgrade/notice", htmx=True).text == ""
    assert "Dismiss the banner" not in admin.get(f"/w/{ws}/upgrade").text


def test_a_member_who_does_not_review_roles_gets_no_banner(web: Web, demo: Demo) -> None:
    from tests.web.demo import CSM_EMAIL, CSM_PASSWORD

    natero = demo.ws("natero")
    source = (Path(__file__).resolve().parents[1] / "fixtures" / "upgrades" / "natero_v2.yaml").read_text(encoding="utf-8")
    schema_upgrade.apply_upgrade(demo.rolegate.uow, actor=Actor.system("test"), source=source)
    with pytest.raises(PermissionDeniedError):  # a CSM does not view roles (N12): the banner is not hers
        schema_upgrade.upgrade_notice(demo.rolegate.reader(), actor=Actor.member(demo.member("natero", CSM_EMAIL)), workspace_id=natero)
    web.login(CSM_EMAIL, CSM_PASSWORD)
    assert web.get(f"/w/{natero}/upgrade/notice", htmx=True).text == ""
    assert web.get(f"/w/{demo.ws('telephony')}/upgrade/notice", htmx=True).status_code == 404  # not her workspace
