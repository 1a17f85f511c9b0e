"""Issue 14 on roles: N12 (a seat is not a privilege), N7/T9 (deleting a role that still
has members, where the article allows it) and K6/K8 (Catalyst custom roles and their
field access), as an integrator of each product meets them over HTTP."""

from __future__ import annotations

from tests.api.conftest import Tenant, assert_problem, invite


def test_N12_configure_users_adds_csms_without_holding_the_csm_seat(natero: Tenant) -> None:
    # The Analyst role holds every permission except the CSM seat (N3), Configure users included.
    analyst = invite(natero, "an@acme.test", "analyst")
    as_analyst = natero.api.as_(actor=analyst)
    r = as_analyst.post(natero.url("/members"), json={"email": "csm@acme.test", "role": "csm"})
    assert r.status_code == 201, r.text
    assert r.json()["member"]["role"] == "csm"
    # Still no escalation on real privileges: a role granting the seat and more than he holds.
    r = as_analyst.post(natero.url("/roles"), json={"name": "Seat only", "grants": ["accounts.csm_seat"], "landing_page": "my_accounts"})
    assert r.status_code == 201, r.text
    assert r.json()["role"]["seat"] == "csm"
