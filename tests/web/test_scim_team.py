"""The Team page with SCIM (issue 17): who the directory manages, their role read-only
with the reason, a suspended member flagged with the records to transfer, and a manual
role change refused with its rule."""

from __future__ import annotations

from scim2_models import User

from rolegate.domain.rules.directory_rules import directory_actor
from rolegate.services import scim
from tests.web.conftest import Web, one, soup, violations
from tests.web.demo import Demo

BASE_URL = "http://rolegate.test/scim/v2"


def test_the_team_page_shows_directory_managed_and_suspended_members(admin: Web, demo: Demo) -> None:
    ws = demo.ws("customersuccessbox")
    base = f"/w/{ws}"
    ann = demo.member("customersuccessbox", "ann@example.com")
    bob = demo.member("customersuccessbox", "bob@example.com")
    directory = directory_actor("0123456789ab")
    for email in ("ann@example.com", "bob@example.com"):  # adopted: both were members already
        scim.create_user(demo.rolegate.uow(), actor=directory, workspace_id=ws, user=User(user_name=email, active=True), base_url=BASE_URL)
    # Ann is the CSM of an account (C6): deprovisioning suspends her, the account stays hers.
    scim.replace_user(demo.rolegate.uow(), actor=directory, workspace_id=ws, member_id=ann, user=User(user_name="ann@example.com", active=False), base_url=BASE_URL)

    doc = soup(admin.get(f"{base}/team"))
    ann_row = one(doc, 'tr[data-email="ann@example.com"]')
    assert ann_row["data-status"] == "disabled"
    assert one(ann_row, ".directory-managed").get_text() == "Managed by your directory"
    assert one(ann_row, ".directory-suspended").get_text() == "Suspended by your directory"
    assert "1 account named them: kept for you to transfer" in one(ann_row, ".transfer-needed").get_text()
    assert ann_row.select("a.role-link") == []  # no role change offered in her actions menu
    assert "follows their groups in your identity provider" in one(ann_row, ".role-read-only").get_text()
    assert ann_row.select("a.transfer-link")  # the way out: transfer the account
    bob_row = one(doc, 'tr[data-email="bob@example.com"]')
    assert bob_row.select(".directory-suspended") == []
    assert bob_row.select(".directory-managed")
    admin_row = one(doc, 'tr[data-email="admin@example.com"]')
    assert admin_row.select(".directory-managed") == []
    carol_row = one(doc, 'tr[data-email="carol@example.com"]')  # not managed: her role changes here
    assert carol_row.select(".directory-managed") == []
    assert carol_row.select("a.role-link")

    # A manual role change is refused, naming why (the form is gone, a crafted post too).
    r = admin.post(f"{base}/team/{bob}/role", {"role": "administrator"})
    assert r.status_code == 409
    assert violations(soup(r)) == ["directory_managed"]
    assert "managed by your directory" in soup(r).get_text()
