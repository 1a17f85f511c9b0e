"""Human copy (issue 15, item 2): what a customer's administrator reads names people
and records by name, in the product's words, with correct plurals; rule codes stay
behind the "Why?" disclosure. Every main page of the five demo workspaces is rendered
(and the pages they link to), refusals of the domain rules are provoked through the
pages and the rule functions are asked for their texts directly; each text fails on
"(s)", a seed rule id outside a "Why?" disclosure, a UUID, or repr() quotes around a
name ('Alice')."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup, Tag

from rolegate.domain.role_copy import copy_name_violations, copy_source_violations
from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind
from rolegate.domain.rules import role_rules, team_rules
from rolegate.domain.rules.directory_rules import directory_role_violations
from rolegate.domain.rules.ownership_rules import ownership_receiver_violations
from rolegate.domain.rules.reset_rules import reset_target_violations
from rolegate.domain.schema import ProductSchema
from rolegate.domain.violations import Violation
from tests.web.conftest import Web, soup
from tests.web.demo import Demo

PRESETS = ("telephony", "natero", "customersuccessbox", "catalyst", "email_marketing")
SEED_RULE = re.compile(r"\b[CEKNT](?:1[0-4]|[1-9])\b")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
# A name between straight single quotes, as repr() writes it ('Night shift'); an
# apostrophe inside a word (Ann's, don't) is not a quote.
REPR_QUOTED = re.compile(r"(?<![\w'])'[^'\s][^'\n]{0,80}?'(?![\w])")
MAX_LINKED = 25
"""Pages linked from a main page, per workspace (role editors, member records...)."""


def copy_problems(text: str) -> list[str]:
    """What a customer should never read in `text`."""
    found = []
    if "(s)" in text:
        found.append("(s)")
    found += [f"rule {m}" for m in SEED_RULE.findall(text)]
    found += [f"id {m}" for m in UUID.findall(text)]
    found += [f"repr {m}" for m in REPR_QUOTED.findall(text)]
    return found


def visible_texts(html: BeautifulSoup) -> Iterable[str]:
    """The page's text and tooltips, without what only a "Why?" disclosure, the code or
    the markup shows: `details.why`, scripts, styles, `code`, and attribute values
    that are data (ids, URLs), not words."""
    for hidden in html.select("details.why, script, style, code, template"):
        hidden.decompose()
    body = html.body or html
    for line in body.get_text("\n").splitlines():
        if line.strip():
            yield line.strip()
    for el in body.select("[title], [aria-label], [placeholder], [data-confirm], [data-confirm-title], [data-confirm-action]"):
        for attr in ("title", "aria-label", "placeholder", "data-confirm", "data-confirm-title", "data-confirm-action"):
            value = el.get(attr)
            if isinstance(value, str) and value.strip():
                yield value.strip()


def _problems_of(html: BeautifulSoup, where: str) -> list[str]:
    found = [f"{where}: {p} in {line[:160]!r}" for line in visible_texts(html) for p in copy_problems(line)]
    return list(dict.fromkeys(found))


def _pages_of(admin: Web, demo: Demo, preset: str) -> list[str]:
    """The workspace's main pages (its navigation) and the pages their content links to."""
    base = f"/w/{demo.ws(preset)}"
    start = admin.get(f"{base}/")
    if start.status_code in (302, 303, 307):
        start = admin.get(start.headers["location"])
    doc = soup(start)
    main = [a["href"] for a in doc.select("nav.mainnav a[href]") if isinstance(a["href"], str)]
    pages = list(dict.fromkeys([f"{base}/", *main, f"{base}/roles/new", f"{base}/audit"]))
    linked: list[str] = []
    for page in list(pages):
        for a in soup(admin.get(page)).select("main a[href]"):
            href = a["href"]
            if not isinstance(href, str):
                continue
            path = urlsplit(href).path
            if path.startswith(base + "/") and path not in pages and path not in linked:
                linked.append(path)
    return pages + linked[:MAX_LINKED]


def _site_problems(admin: Web, demo: Demo, preset: str) -> list[str]:
    problems: list[str] = []
    for path in _pages_of(admin, demo, preset):
        r = admin.get(path)
        if r.status_code >= 300 or not r.headers.get("content-type", "").startswith("text/html"):
            continue
        problems += _problems_of(soup(r), path)
    return problems


@pytest.mark.parametrize("preset", PRESETS)
def test_every_page_of_the_demo_workspaces_speaks_to_customers(admin: Web, demo: Demo, preset: str) -> None:
    problems = _site_problems(admin, demo, preset)
    assert problems == [], "\n".join(problems)


def _refusal_page(admin: Web, path: str, data: dict[str, str] | None = None) -> BeautifulSoup:
    r = admin.post(path, data or {})
    assert r.status_code >= 400, (path, r.status_code)
    return soup(r)


def test_refusals_shown_on_the_pages_speak_to_customers(admin: Web, demo: Demo) -> None:
    """Refusals provoked on the pages: disabling a member who still holds records (C6),
    deleting a role that members hold, a role change that leaves records with nobody
    allowed to hold them (N9)."""
    natero = f"/w/{demo.ws('natero')}"
    team = soup(admin.get(f"{natero}/team"))
    holder = next(
        row for row in team.select("tr[data-member-id]") if (c := row.select_one(".assigned-count")) is not None and c.get_text(strip=True) not in ("", "0")
    )
    mid = str(holder["data-member-id"])
    problems = _problems_of(_refusal_page(admin, f"{natero}/team/{mid}/disable"), "disable a member with records")
    roles = soup(admin.get(f"{natero}/roles"))
    held = [str(row["data-role-id"]) for row in roles.select("tr[data-role-id]") if row.get("data-role-id")]
    refused = 0
    for role_id in held:
        r = admin.post(f"{natero}/roles/{role_id}/delete", {})
        if r.status_code >= 400:
            refused += 1
            problems += _problems_of(soup(r), f"delete role {role_id}")
    assert refused, "no role deletion was refused: the check read nothing"
    guest = next(str(row["data-role-id"]) for row in roles.select("tr[data-role-id]") if row.get("data-role-name") == "Guest")
    problems += _problems_of(_refusal_page(admin, f"{natero}/team/{mid}/role", {"role": guest}), "a role change that strands records")
    assert problems == [], "\n".join(problems)


def _schemas(demo: Demo) -> dict[str, ProductSchema]:
    return {p: demo.rolegate.snapshots.get(demo.ws(p)).schema for p in PRESETS}


def _texts(violations: Iterable[Violation]) -> list[str]:
    return [t for v in violations for t in (v.message, v.fix or "")]


def test_refusal_texts_of_the_domain_rules_speak_to_customers(demo: Demo) -> None:
    """The domain rules' own texts, with a member, a role and a workspace named as the
    services name them (name or email, the role's name)."""
    problems: list[str] = []
    member = Member("01a2b3c4-0000-7000-8000-000000000001", "role", MemberStatus.ACTIVE)
    invited = Member("01a2b3c4-0000-7000-8000-000000000002", "role", MemberStatus.INVITED)
    for preset, schema in _schemas(demo).items():
        role = Role("night", "Night shift", RoleKind.CUSTOM, next(iter(schema.levels)), frozenset())
        texts: list[str] = []
        texts += _texts(team_rules.disable_blockers(schema, member="Ann Archer", assigned_records=1, references=["Playbook Q3"]))
        texts += _texts(team_rules.disable_blockers(schema, member="Ann Archer", assigned_records=3, references=["Playbook Q3", "Renewals"]))
        texts += _texts(team_rules.guardian_violations(schema, member=member.id, actor="someone else", active_guardians={member.id}, stays_guardian=False, who="Ann Archer"))
        for held in _assignable(schema):
            texts += _texts(team_rules.assignee_violations(schema, object_type=held, member="Ann Archer", effective=frozenset(), active=False))
            texts += _texts(team_rules.assignee_violations(schema, object_type=held, member="Ann Archer", effective=frozenset(), active=True))
            for n in (1, 4):
                texts += _texts(team_rules.assignments_kept_violations(schema, member="Ann Archer", role_name="Guest", effective=frozenset(), assigned={held: n}))
        texts += _texts(team_rules.joining_violations(schema, member=member, by_themselves=True, claimed_email=None, who="Ann Archer"))
        texts += _texts(reset_target_violations("Ann Archer", MemberStatus.INVITED, rule_id=schema.rule("self_change")))
        texts += _texts(reset_target_violations("Ann Archer", MemberStatus.DISABLED, rule_id=schema.rule("self_change")))
        texts += _texts(directory_role_violations(member="Ann Archer", managed=True, by_directory=False))
        texts += _texts(ownership_receiver_violations(schema, giver=member, receiver=invited, who="Ann Archer"))
        texts += _texts(role_rules.role_deletion_violations(schema, role, _holders(active=1, with_assigned_records=1)))
        texts += _texts(role_rules.role_deletion_violations(schema, role, _holders(active=2, invited=1)))
        texts += _texts(role_rules.disabled_holder_violations(schema, role, held_by_disabled=True))
        system = Role("admin", "Administrator", RoleKind.SYSTEM, role.level, frozenset(), deletable=False)
        texts += _texts(role_rules.role_deletion_violations(schema, system, _holders()))
        texts += _texts(copy_source_violations(schema, system))
        texts += _texts(copy_name_violations(schema, role, target_name="Acme EU", existing=system))
        problems += [f"{preset}: {p} in {t!r}" for t in texts for p in copy_problems(t)]
    assert problems == [], "\n".join(problems)


def _holders(active: int = 0, invited: int = 0, with_assigned_records: int = 0) -> role_rules.HolderCounts:
    return role_rules.HolderCounts(active, invited, with_assigned_records)


def _assignable(schema: ProductSchema) -> list[str]:
    """The object types whose assignees need an action (N9), if the product has any."""
    return [o.key for o in schema.objects.values() if o.assignable and o.assignee_action is not None]


def test_the_check_itself_finds_what_it_looks_for() -> None:
    assert copy_problems("3 record(s)") == ["(s)"]
    assert copy_problems("Refused (T5).") == ["rule T5"]
    assert copy_problems("Member 01a245c2-a40b-7d9a-a260-7537006adeb7 is busy") == ["id 01a245c2-a40b-7d9a-a260-7537006adeb7"]
    assert copy_problems("Role 'Night shift' created.") == ["repr 'Night shift'"]
    assert copy_problems("Ann's role, and Bob's, don't change.") == []
    assert copy_problems("Role “Night shift” created; 1 member, 2 accounts.") == []
    html = BeautifulSoup('<body><p>Refused.</p><details class="why"><summary>Why?</summary>T5</details></body>', "html.parser")
    assert [line for line in visible_texts(html) for _ in copy_problems(line)] == []
    assert isinstance(html.body, Tag)
