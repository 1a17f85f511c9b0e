"""Issue 15, item 2: a refusal says what to do next, with the link to the page where
it is done, in each product's rules (its own seed ids map back to the neutral rule)."""

from __future__ import annotations

from rolegate.domain.schema import DEFAULT_RULE_IDS
from rolegate.domain.workspace import Actor
from rolegate.presets import PRESET_KEYS, load_preset
from rolegate.services.members import add_member
from rolegate.services.roles import create_role
from rolegate.web.fix_links import FixLink, fix_link
from tests.web.conftest import Web, one, soup, violations
from tests.web.demo import Demo

PLATFORM = Actor.system("test")


def test_T9_a_refused_role_deletion_links_to_the_team_page_where_its_holders_are(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    role = create_role(demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, name="Linked", level="analyst").id
    add_member(demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, email="linked@example.com", role_id=role)
    r = admin.post(f"/w/{ws}/roles/{role}/delete", {"replacement": "analyst"})
    assert r.status_code == 409
    refused = one(soup(r), "#delete-refused")
    assert violations(refused) == ["T9"]
    link = one(refused, "a.fix-link")
    assert link["href"] == f"/w/{ws}/team"
    assert link.get_text() == "See who holds it on the Team page"


def test_each_products_cited_rules_lead_to_their_page_and_never_to_a_page_it_lacks() -> None:
    for key in PRESET_KEYS:
        schema = load_preset(key)
        base = f"/w/{key}"
        in_use = fix_link(schema, base, schema.rule("member_in_use"))  # N9 and C6 also cite it as "assignee"
        assert isinstance(in_use, FixLink)
        assert in_use.href == f"{base}/team"
        assert "Team page" in in_use.label
        assert fix_link(schema, base, schema.rule("role_delete_assigned")) is not None
        features = fix_link(schema, base, schema.rule("feature_off"))
        assert (features is not None) == bool(schema.features), key
        # A refusal shown on the page that remedies it gets no link to itself.
        assert fix_link(schema, base, schema.rule("member_in_use"), current=f"{base}/team") is None
        # Rules whose remedy is in the form itself get none; nor does an unknown code.
        assert fix_link(schema, base, schema.rule("level_floor")) is None
        assert fix_link(schema, base, "no-such-rule") is None
    assert set(DEFAULT_RULE_IDS) >= {"member_in_use", "role_delete_assigned", "feature_off", "level_floor"}
