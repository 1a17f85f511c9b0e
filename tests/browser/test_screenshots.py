"""Every page at 1366 and 390 px, light and dark (issue 15): the screenshots in
docs/screenshots/pages/ (`UPDATE_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screenshots.py`
writes them there; otherwise into the test's temporary folder). At 1366 px no page
scrolls sideways: wide tables scroll inside their own frame."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import SCREENSHOTS, Site, log_in

PAGES: list[tuple[str, str, str]] = [
    ("login", "", "/login"),
    ("workspaces", "", "/workspaces"),
    ("roles", "telephony", "/roles"),
    ("role-editor", "telephony", "/roles/administrator"),
    ("field-permissions", "catalyst", "/roles/admin/fields"),
    ("matrix", "email_marketing", "/matrix"),
    ("features", "email_marketing", "/features"),
    ("team", "customersuccessbox", "/team"),
    ("explain", "natero", "/explain"),
    ("accounts", "natero", "/accounts"),
    ("audit-log", "customersuccessbox", "/audit"),
    ("administrator-records", "email_marketing", "/records"),
    ("not-found", "telephony", "/no-such-page"),
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1366, 390])
def test_every_page_at_two_widths_and_two_themes(browser: Browser, site: Site, tmp_path: Path, width: int, scheme: str) -> None:
    folder = SCREENSHOTS / "pages" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)  # type: ignore[arg-type]
    page = context.new_page()
    try:
        page.goto(site.url("/login"))
        page.screenshot(path=str(folder / f"login-{width}-{scheme}.png"))
        log_in(page, site)
        sideways: list[str] = []
        for name, preset, path in PAGES[1:]:
            page.goto(site.ws(preset, path) if preset else site.url(path))
            page.screenshot(path=str(folder / f"{name}-{width}-{scheme}.png"))
            if page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"):
                sideways.append(name)
        if width == 1366:
            assert sideways == []
    finally:
        context.close()
