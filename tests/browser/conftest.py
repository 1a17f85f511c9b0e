"""Browser tests: Playwright for Python driving Debian's Chromium (never a downloaded
browser), against the app served by uvicorn in a thread on a free port, on a fresh
copy of the demo database per test.

Without /usr/bin/chromium the tests are skipped locally (`apt-get install chromium`,
or `make browser` as root) and fail on CI (`CI=true`), where `make test` installs it.
`UPDATE_SCREENSHOTS=1` writes the README's screenshots to docs/screenshots/.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from rolegate.asgi import create_app
from tests.web.demo import ADMIN_EMAIL, ADMIN_PASSWORD, Demo, build_template, open_copy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class Site:
    demo: Demo
    base: str

    def url(self, path: str) -> str:
        return self.base + path

    def ws(self, preset: str, path: str = "") -> str:
        return f"{self.base}/w/{self.demo.ws(preset)}{path}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def browser_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("browser-demo") / "template.db"
    build_template(path)
    return path


@pytest.fixture
def site(browser_template: Path, tmp_path: Path) -> Iterator[Site]:
    demo = open_copy(browser_template, tmp_path / "demo.db")
    port = _free_port()
    config = uvicorn.Config(create_app(demo.rolegate), host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield Site(demo, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        demo.rolegate.close()


# Package scope: the sync API runs an event loop in this thread while it lives, and
# asyncio.run() in a later module of the same worker (the bench smoke tests) would fail.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is missing: apt-get install chromium (or `make browser` as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests need Debian's Chromium on CI: {reason}")
        pytest.skip(reason)
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    p = context.new_page()
    yield p
    context.close()


def log_in(page: Page, site: Site, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    page.goto(site.url("/login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def admin(page: Page, site: Site) -> Page:
    log_in(page, site)
    return page


def screenshot(page: Page, name: str, tmp_path: Path) -> Path:
    """Into docs/screenshots/ with UPDATE_SCREENSHOTS=1 (the README shows them), else
    into the test's temporary folder (the run leaves the work tree as it was)."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
