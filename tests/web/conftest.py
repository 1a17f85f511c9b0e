"""The admin UI in process (httpx over ASGI, cookies kept), on a fresh copy of the demo
database per test; pages are parsed with BeautifulSoup and asserted by structure."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from bs4 import BeautifulSoup, Tag

from rolegate.asgi import create_app
from tests.web.demo import ADMIN_EMAIL, ADMIN_PASSWORD, Demo, build_template, open_copy

HTMX = {"HX-Request": "true"}


class Web:
    """A synchronous browser without JavaScript: GET, POST forms (with the page's CSRF
    token unless told otherwise), cookies kept."""

    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient) -> None:
        self.portal = portal
        self.client = client
        self.csrf = ""

    def request(
        self, method: str, url: str, *, htmx: bool = False, data: list[tuple[str, str]] | None = None, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        sent = dict(HTMX if htmx else {})
        sent.update(headers or {})
        content = None
        if data is not None:
            content = urlencode(data).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        r = self.portal.call(lambda: self.client.request(method, url, content=content, headers=sent))
        match = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
        if match:
            self.csrf = match.group(1)
        return r

    def get(self, url: str, *, htmx: bool = False) -> httpx.Response:
        return self.request("GET", url, htmx=htmx)

    def post(self, url: str, data: Mapping[str, Any] | list[tuple[str, str]] | None = None, *, htmx: bool = False, csrf: bool = True) -> httpx.Response:
        items: list[tuple[str, str]] = list(data.items()) if isinstance(data, Mapping) else list(data or [])
        if csrf:
            if not self.csrf:
                self.get("/login")
            items.append(("csrf_token", self.csrf))
        return self.request("POST", url, data=items, htmx=htmx)

    def login(self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> httpx.Response:
        self.get("/login")
        r = self.post("/login", {"email": email, "password": password, "next": "/"})
        assert r.status_code == 303, r.text
        self.get("/workspaces")  # a page with the new session's CSRF token
        return r


def soup(r: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(r.text, "html.parser")


def one(doc: BeautifulSoup | Tag, selector: str) -> Tag:
    found = doc.select(selector)
    assert len(found) == 1, f"{selector!r}: {len(found)} matches"
    return found[0]


def form_fields(form: Tag) -> list[tuple[str, str]]:
    """What a browser would post for `form` as it is (enabled fields only)."""
    out: list[tuple[str, str]] = []
    for el in form.select("input, select, textarea"):
        name = el.get("name")
        if not isinstance(name, str) or el.has_attr("disabled") or name == "csrf_token":
            continue
        if el.name == "input" and el.get("type") in ("checkbox", "radio"):
            if el.has_attr("checked"):
                out.append((name, str(el.get("value", "on"))))
        elif el.name == "select":
            chosen = el.select_one("option[selected]") or el.select_one("option")
            if chosen is not None:
                out.append((name, str(chosen.get("value", ""))))
        elif el.name == "textarea":
            out.append((name, el.get_text()))
        else:
            out.append((name, str(el.get("value", ""))))
    return out


def set_field(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(k, value if k == name else v) for k, v in fields]


def without(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in fields if (k, v) != (name, value)]


def violations(doc: BeautifulSoup | Tag) -> list[str]:
    return [str(li["data-rule"]) for li in doc.select("li.violation")]


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "template.db"
    build_template(path)
    return path


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Iterator[Demo]:
    d = open_copy(demo_template, tmp_path / "demo.db")
    yield d
    d.rolegate.close()


@pytest.fixture
def web(demo: Demo) -> Iterator[Web]:
    app = create_app(demo.rolegate)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        try:
            yield Web(portal, client)
        finally:
            portal.call(client.aclose)


@pytest.fixture
def other(demo: Demo) -> Iterator[Web]:
    """A second browser (its own cookies) on the same server: the invited person's."""
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(demo.rolegate)), base_url="http://rolegate.test")
        try:
            yield Web(portal, client)
        finally:
            portal.call(client.aclose)


@pytest.fixture
def admin(web: Web) -> Web:
    web.login()
    return web
