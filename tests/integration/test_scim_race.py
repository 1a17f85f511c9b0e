"""Seat races over SCIM (issue 17): 50 directories' creates at once, over real HTTP to
a live server, for 10 free seats give exactly 10 members, on SQLite and PostgreSQL;
every other create is refused with the seat rule and leaves nothing behind."""

from __future__ import annotations

import threading
from collections import Counter

import httpx

from rolegate.bootstrap import Rolegate
from rolegate.domain.roles import MemberStatus
from rolegate.domain.workspace import Actor
from rolegate.services.team import team_view
from tests.api.scim_server import live_scim

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
FREE = 10
CALLS = 50


def test_50_parallel_creates_for_10_free_seats_give_exactly_10(rolegate_app: Rolegate) -> None:
    with live_scim(rolegate_app, preset="natero", seats={"analyst": FREE}) as live:
        before = team_view(rolegate_app.reader(), actor=Actor.system("test"), workspace_id=live.workspace_id)
        used = next(s.used for s in before.seats if s.key == "analyst")
        assert used == 0  # the owner holds a CSM seat: all 10 analyst seats are free
        statuses: list[int] = []
        details: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(CALLS)

        def create(i: int) -> None:
            body = {"schemas": [USER], "userName": f"racer{i}@acme.com", "emails": [{"value": f"racer{i}@acme.com", "primary": True}], "active": True}
            with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {live.key}"}, timeout=60) as client:
                start.wait()
                r = client.post("/Users", json=body, headers={"Content-Type": "application/scim+json"})
            with lock:
                statuses.append(r.status_code)
                if r.status_code != 201:
                    details.append(r.json()["detail"])

        threads = [threading.Thread(target=create, args=(i,)) for i in range(CALLS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert Counter(statuses) == {201: FREE, 400: CALLS - FREE}, Counter(statuses)
        assert all(d.startswith("[N1] No free Analyst seat") for d in details), set(details)
        after = team_view(rolegate_app.reader(), actor=Actor.system("test"), workspace_id=live.workspace_id)
        racers = [m for m in after.members if m.info.email.startswith("racer")]
        assert len(racers) == FREE
        assert all(m.info.member.status is MemberStatus.ACTIVE for m in racers)
        assert next(s.used for s in after.seats if s.key == "analyst") == FREE
        listed = httpx.get(f"{live.url}/Users", headers={"Authorization": f"Bearer {live.key}"}).json()
        assert listed["totalResults"] == FREE
