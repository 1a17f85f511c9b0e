"""The session cookie, and CSRF protection.

The cookie (`rolegate_session`) is HttpOnly, SameSite=Lax, Secure over HTTPS, signed
with itsdangerous (HMAC) and time-limited (the session's maximum age). It holds the
id of a server-side session (`services.web_sessions`: a row the store keeps by the
id's hash, which logout revokes and which ends when idle), the user's session
generation (C8), a CSRF token and at most one flash message. The signature alone
never logs anyone in: a cookie whose session was revoked, or ended idle, is no
session, however well signed. Every form carries the CSRF
token in a hidden field, and htmx sends it as the `X-CSRF-Token` header (`hx-headers`
on `<body>`): a POST without the session's token is refused (`CsrfError`). A visitor
who is not logged in gets a session with a token only, so the login form is protected
too; logging in replaces the token (no fixation).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["COOKIE", "CSRF_FIELD", "CSRF_HEADER", "MAX_AGE", "CsrfError", "Session", "Sessions"]

COOKIE = "rolegate_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MAX_AGE = 12 * 3600
"""The cookie's lifetime when the UI is not told the session policy's maximum age."""


class CsrfError(Exception):
    """A state-changing request without the session's CSRF token."""


@dataclass
class Session:
    data: dict[str, str] = field(default_factory=dict)
    dirty: bool = False

    @property
    def session_id(self) -> str | None:
        """The server-side session's id (its hash is the `web_sessions` row), if logged in."""
        return self.data.get("s")

    @property
    def csrf(self) -> str:
        token = self.data.get("c")
        if token is None:
            token = secrets.token_urlsafe(32)
            self.data["c"] = token
            self.dirty = True
        return token

    @property
    def session_version(self) -> str | None:
        """The user's session generation when they logged in (C8: a password reset moves it on)."""
        return self.data.get("v")

    def login(self, session_id: str, session_version: int = 0) -> None:
        self.data = {"s": session_id, "c": secrets.token_urlsafe(32), "v": str(session_version)}
        self.dirty = True

    @property
    def portal_workspace(self) -> str | None:
        """The workspace a portal session is bound to (the server-side scope,
        `services.portal.portal_scope`, is the authority; this routes early)."""
        return self.data.get("p")

    def enter_portal(self, session_id: str, session_version: int, workspace_id: str) -> None:
        self.login(session_id, session_version)
        self.data["p"] = workspace_id

    def announce(self, event: str) -> None:
        """A portal event (JSON) for the next full page to post to the host page."""
        self.data["e"] = event
        self.dirty = True

    def pop_event(self) -> str | None:
        event = self.data.pop("e", None)
        if event is not None:
            self.dirty = True
        return event

    def logout(self) -> None:
        self.data = {"c": secrets.token_urlsafe(32)}
        self.dirty = True

    def flash(self, message: str) -> None:
        self.data["f"] = message
        self.dirty = True

    def pop_flash(self) -> str | None:
        message = self.data.pop("f", None)
        if message is not None:
            self.dirty = True
        return message

    def check_csrf(self, request: Request, form: FormData) -> None:
        sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
        expected = self.data.get("c")
        if not isinstance(sent, str) or expected is None or not secrets.compare_digest(sent.encode(), expected.encode()):
            raise CsrfError("This form has expired or did not come from Rolegate. Reload the page and try again.")


class Sessions:
    """Reads and writes the session cookie."""

    def __init__(self, secret_key: str, *, max_age: int = MAX_AGE) -> None:
        self._signer = URLSafeTimedSerializer(secret_key, salt="rolegate.web.session")
        self.max_age = max_age

    def load(self, request: Request) -> Session:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return Session()
        try:
            data = self._signer.loads(raw, max_age=self.max_age)
        except BadSignature:  # also SignatureExpired
            return Session(dirty=True)
        if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            return Session(dirty=True)
        return Session(dict(data))

    def save(self, request: Request, response: Response, session: Session) -> None:
        if not session.dirty:
            return
        if session.portal_workspace is not None:
            # Inside the host's iframe the request is cross-site: only a SameSite=None
            # cookie is sent, which browsers take only when Secure (http://127.0.0.1
            # and localhost count as secure); Partitioned (CHIPS) keeps it in the host
            # site's jar, apart from a Rolegate login in a tab of its own.
            response.set_cookie(
                COOKIE,
                self._signer.dumps(session.data),
                max_age=self.max_age,
                path="/",
                httponly=True,
                samesite="none",
                secure=True,
            )
            # Starlette writes `Partitioned` only on Python 3.14+: add it to the header just set.
            name, value = response.raw_headers[-1]
            assert name == b"set-cookie"
            response.raw_headers[-1] = (name, value + b"; Partitioned")
            return
        response.set_cookie(
            COOKIE,
            self._signer.dumps(session.data),
            max_age=self.max_age,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
