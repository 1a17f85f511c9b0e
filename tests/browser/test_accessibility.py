"""Accessibility (issue 15, item 8): axe-core (vendored under tests/browser/vendor,
MPL-2.0) runs in Chromium on every page of the admin UI, light and dark: no serious
and no critical violation. `UPDATE_ACCESSIBILITY=1` writes the table of results to
docs/accessibility.md. The invitation works by keyboard alone, with a visible focus."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Site, log_in

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
DOC = Path(__file__).resolve().parents[2] / "docs" / "accessibility.md"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

PAGES: list[tuple[str, str, str]] = [
    ("Login", "", "/login"),
    ("Workspaces", "", "/workspaces"),
    ("Roles (Telephony)", "telephony", "/roles"),
    ("Role editor (Telephony)", "telephony", "/roles/administrator"),
    ("New role (Natero)", "natero", "/roles/new"),
    ("Field permissions (Catalyst)", "catalyst", "/roles/admin/fields"),
    ("Permission matrix (Email marketing)", "email_marketing", "/matrix"),
    ("Features (Email marketing)", "email_marketing", "/features"),
    ("Team (CustomerSuccessBox)", "customersuccessbox", "/team"),
    ("Team (Telephony)", "telephony", "/team"),
    ("Explain (Natero)", "natero", "/explain"),
    ("Accounts (Natero)", "natero", "/accounts"),
    ("Audit log (CustomerSuccessBox)", "customersuccessbox", "/audit"),
    ("Administrator records (Email marketing)", "email_marketing", "/records"),
    ("Not found (Telephony)", "telephony", "/no-such-page"),
    ("Link no longer works", "", "/password-reset/not-a-token"),
]


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    # axe is injected as a script: the pages' CSP (script-src 'self') would refuse it.
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _run_axe(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", TAGS
    )
    return list(result["violations"])


def _url(site: Site, preset: str, path: str) -> str:
    return site.ws(preset, path) if preset else site.url(path)


def test_every_page_passes_axe_with_no_serious_or_critical_violation(axe_page: Page, site: Site) -> None:
    log_in(axe_page, site)
    rows: list[tuple[str, str, dict[str, int], list[str]]] = []
    failures: list[str] = []
    for scheme in ("light", "dark"):
        axe_page.emulate_media(color_scheme=scheme)
        for label, preset, path in PAGES:
            if path == "/login":
                continue  # logged in: the login page is checked below, logged out
            axe_page.goto(_url(site, preset, path))
            found = _run_axe(axe_page)
            counts = {impact: sum(len(v["nodes"]) for v in found if v["impact"] == impact) for impact in ("critical", "serious", "moderate", "minor")}
            rules = sorted({f"{v['id']} ({v['impact']})" for v in found})
            rows.append((label, scheme, counts, rules))
            failures += [f"{label} [{scheme}]: {v['id']} {v['impact']}: {v['nodes'][0]['target']}" for v in found if v["impact"] in ("serious", "critical")]
    axe_page.context.clear_cookies()
    for scheme in ("light", "dark"):
        axe_page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        axe_page.goto(site.url("/login"))
        found = _run_axe(axe_page)
        counts = {impact: sum(len(v["nodes"]) for v in found if v["impact"] == impact) for impact in ("critical", "serious", "moderate", "minor")}
        rows.append(("Login", scheme, counts, sorted({f"{v['id']} ({v['impact']})" for v in found})))
        failures += [f"Login [{scheme}]: {v['id']} {v['impact']}" for v in found if v["impact"] in ("serious", "critical")]
    if os.environ.get("UPDATE_ACCESSIBILITY") == "1":
        _write_doc(rows)
    assert failures == [], "\n".join(failures)


def _write_doc(rows: list[tuple[str, str, dict[str, int], list[str]]]) -> None:
    lines = [
        "# Accessibility",
        "",
        "Every page of the admin UI is checked by axe-core 4.14.1 in Debian's Chromium, in the light and",
        "the dark theme (`prefers-color-scheme`), at 1366 px, with the rules tagged",
        f"{', '.join(f'`{t}`' for t in TAGS)}. `tests/browser/test_accessibility.py` fails on any serious",
        "or critical violation; `UPDATE_ACCESSIBILITY=1 .venv/bin/pytest tests/browser/test_accessibility.py`",
        "writes this table. Counts are affected elements.",
        "",
        "| page | theme | critical | serious | moderate | minor | rules reported |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, scheme, counts, rules in rows:
        lines.append(
            f"| {label} | {scheme} | {counts['critical']} | {counts['serious']} | {counts['moderate']} | {counts['minor']} | {', '.join(rules) or 'none'} |"
        )
    lines += [
        "",
        "Also checked: the invitation by keyboard alone, with a visible focus ring",
        "(`test_an_invitation_by_keyboard_alone`); the confirmation dialogs focus Cancel and close with",
        "Escape (`tests/browser/test_safe_defaults.py`).",
        "",
    ]
    DOC.write_text("\n".join(lines), encoding="utf-8")


def test_an_invitation_by_keyboard_alone(admin: Page, site: Site) -> None:
    admin.goto(site.ws("telephony", "/team"))
    email = admin.locator("#invite-email")
    # Tab from the page's start to the invite form's email field, never touching the mouse.
    for _ in range(60):
        admin.keyboard.press("Tab")
        if admin.evaluate("document.activeElement && document.activeElement.id") == "invite-email":
            break
    expect(email).to_be_focused()
    outline = admin.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus
    admin.keyboard.type("kim@example.com")
    admin.keyboard.press("Tab")
    admin.keyboard.type("Kim Keys")
    admin.keyboard.press("Tab")
    expect(admin.locator("#invite-role")).to_be_focused()
    expect(admin.locator("#invite-role option:checked")).to_have_text("Analyst")
    admin.keyboard.press("Tab")
    admin.keyboard.press("Enter")
    expect(admin.locator(".flash")).to_have_text("Invitation sent to kim@example.com.")
