"""Rendering: a full page, or only its content for htmx (fief's habit).

A request from htmx (`HX-Request: true`, not a boosted navigation) gets the page's
content block only; any other request gets the whole page with its layout. Templates
start with `{% extends layout %}`, and `layout` is `base.html` or `fragment.html`.
After a change, `redirect` answers a form with 303 See Other, and htmx with
`HX-Redirect` (htmx then loads the page itself).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rolegate.domain.words import count_of, without_rule_ids
from rolegate.web.fix_links import fix_link
from rolegate.web.session import CSRF_FIELD, CSRF_HEADER, Session

__all__ = ["SECURITY_HEADERS", "Renderer", "is_fragment", "is_htmx", "redirect", "safe_next", "security_headers"]

TEMPLATES = Path(__file__).parent / "templates"

SECURITY_HEADERS: Mapping[str, str] = {
    # Scripts and styles only from this server: htmx runs without eval (htmx-config
    # allowEval=false) and without its inline indicator styles.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def security_headers(frame_origins: tuple[str, ...] = (), image_origins: tuple[str, ...] = ()) -> dict[str, str]:
    """The headers of a page; a portal page (issue 15) may be framed by the
    organization's origins and show its logo. X-Frame-Options cannot name origins:
    a page that may be framed leaves it out (browsers obey frame-ancestors first),
    one that may not keeps DENY for browsers without CSP 2."""
    if not frame_origins and not image_origins:
        return dict(SECURITY_HEADERS)
    ancestors = " ".join(frame_origins) or "'none'"
    images = " ".join(("'self'", "data:", *image_origins))
    headers = dict(SECURITY_HEADERS)
    headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; frame-ancestors {ancestors}; form-action 'self'; base-uri 'none'"
    )
    if frame_origins:
        del headers["X-Frame-Options"]
    return headers


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def is_fragment(request: Request) -> bool:
    return is_htmx(request) and request.headers.get("HX-Boosted") != "true"


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path of this site (no scheme, no `//host`): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def redirect(request: Request, url: str) -> Response:
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def human(value: Any) -> str:
    """A JSON value as a person reads it (audit diffs): no Python reprs, no brackets."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(human(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return "; ".join(f"{field_label(str(k))}: {human(v)}" for k, v in value.items()) if value else "(none)"
    return str(value)


def field_label(path: str) -> str:
    """An audit path (`fields.account.arr`, `landing_page`) in words."""
    return " \u203a ".join(part.replace("_", " ") for part in path.split("."))


class Renderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["human"] = human
        self.env.filters["field_label"] = field_label
        self.env.filters["count_of"] = count_of  # "3 members", never "member(s)"
        self.env.filters["without_rule_ids"] = without_rule_ids  # a preset's text, its seed rules behind "Why?"
        self.env.globals["csrf_field"] = CSRF_FIELD
        self.env.globals["fix_link"] = fix_link  # a refusal's "What to do", with the page to do it on
        self.env.globals["csrf_header"] = CSRF_HEADER
        # Cache-busting for the two static files: a new package version, a new URL.
        self.env.globals["asset_version"] = secrets.token_hex(4)

    def render(
        self,
        request: Request,
        session: Session,
        template: str,
        context: Mapping[str, Any],
        *,
        status: int = 200,
        fragment: bool | None = None,
    ) -> HTMLResponse:
        as_fragment = is_fragment(request) if fragment is None else fragment
        ctx: dict[str, Any] = {
            "request": request,
            "layout": "fragment.html" if as_fragment else "base.html",
            "csrf": session.csrf,
            "flash": None if as_fragment else session.pop_flash(),
            "portal_event": None if as_fragment else session.pop_event(),
            "page": None,
            "user": None,
        }
        ctx.update(context)
        html = self.env.get_template(template).render(ctx)
        return HTMLResponse(html, status_code=status)
