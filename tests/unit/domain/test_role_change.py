"""What a member's role change changes for them (issue 15, item 1): permissions gained
and lost by area, and the seat they use afterwards (N1, N2: a Natero role's seat follows
the CSM seat permission; K2: Catalyst's licenses)."""

from __future__ import annotations

from rolegate.domain.permissions import role_permissions
from rolegate.domain.role_change import permission_changes, roles_offered, seat_move
from rolegate.domain.roles import Member, MemberStatus, Role, role_from_system
from rolegate.presets import load_preset

NATERO = load_preset("natero")
CATALYST = load_preset("catalyst")


def _roles(schema_key: str) -> dict[str, Role]:
    schema = load_preset(schema_key)
    return {k: role_from_system(schema, r) for k, r in schema.system_roles.items()}


def test_gained_and_lost_are_grouped_by_area_in_the_schemas_order() -> None:
    roles = _roles("natero")
    feats = NATERO.feature_defaults
    csm = role_permissions(NATERO, roles["csm"], feats)
    analyst = role_permissions(NATERO, roles["analyst"], feats)
    changes = permission_changes(NATERO, csm, analyst)
    assert [c.area.key for c in changes] == [a for a in NATERO.areas if any(c.area.key == a for c in changes)]
    gained = {p.key for c in changes for p in c.gained}
    lost = {p.key for c in changes for p in c.lost}
    assert gained == analyst - csm
    assert lost == csm - analyst
    assert gained
    assert lost
    for c in changes:
        assert all(p.area == c.area.key for p in c.gained + c.lost)
        assert c.gained or c.lost  # an area where nothing changes is left out
        order = list(NATERO.permissions)
        assert [p.key for p in c.gained] == sorted((p.key for p in c.gained), key=order.index)


def test_the_same_permissions_change_nothing() -> None:
    roles = _roles("natero")
    perms = role_permissions(NATERO, roles["csm"], NATERO.feature_defaults)
    assert permission_changes(NATERO, perms, perms) == ()


def test_N2_a_csm_made_analyst_uses_an_analyst_seat_instead_and_it_is_counted() -> None:
    roles = _roles("natero")
    members = [Member("ann", "csm", MemberStatus.ACTIVE), Member("eve", "executive", MemberStatus.ACTIVE), Member("carol", "guest", MemberStatus.INVITED)]
    move = seat_move(NATERO, roles, members, member=members[0], role=roles["analyst"], capacities={"csm": 5, "analyst": 5})
    assert (move.before, move.after) == ("csm", "analyst")
    assert move.used == 3  # eve, carol (invited members hold a seat) and ann now
    assert move.capacity == 5
    assert move.holds_seat
    assert move.changes


def test_N2_a_role_of_the_same_seat_moves_no_seat() -> None:
    roles = _roles("natero")
    ann = Member("ann", "csm", MemberStatus.ACTIVE)
    move = seat_move(NATERO, roles, [ann], member=ann, role=roles["csm_manager"], capacities={})
    assert (move.before, move.after, move.used, move.capacity) == ("csm", "csm", 1, None)
    assert not move.changes


def test_a_disabled_member_holds_no_seat_before_or_after() -> None:
    roles = _roles("natero")
    dan = Member("dan", "analyst", MemberStatus.DISABLED)
    move = seat_move(NATERO, roles, [dan], member=dan, role=roles["csm"], capacities={"csm": 5})
    assert move.after == "csm"
    assert move.used == 0
    assert not move.holds_seat
    assert not move.changes


def test_K2_a_role_without_a_seat_counts_none() -> None:
    telephony = load_preset("telephony")
    roles = _roles("telephony")
    bob = Member("bob", "analyst", MemberStatus.ACTIVE)
    move = seat_move(telephony, roles, [bob], member=bob, role=roles["administrator"], capacities={})
    assert (move.before, move.after, move.used, move.capacity) == (None, None, 0, None)
    assert not move.changes


def test_K2_a_catalyst_member_made_viewer_takes_a_viewer_license() -> None:
    roles = _roles("catalyst")
    ann = Member("ann", "member", MemberStatus.ACTIVE)
    bob = Member("bob", "viewer", MemberStatus.ACTIVE)
    move = seat_move(CATALYST, roles, [ann, bob], member=ann, role=roles["viewer"], capacities={"editor": 5, "viewer": 10})
    assert (move.before, move.after, move.used, move.capacity) == ("editor", "viewer", 2, 10)


def test_C4_the_only_administrator_is_offered_only_the_roles_that_keep_them_one() -> None:
    csb = load_preset("customersuccessbox")
    roles = _roles("customersuccessbox")
    ada = Member("ada", "administrator", MemberStatus.ACTIVE)
    ann = Member("ann", "csm", MemberStatus.ACTIVE)
    offered = roles_offered(csb, roles, [ada, ann], member=ada, features=csb.feature_defaults)
    assert [r.id for r in offered] == ["administrator"]
    # Anyone else, and the administrator once a second one is there, may get any role.
    assert roles_offered(csb, roles, [ada, ann], member=ann, features=csb.feature_defaults) == tuple(roles.values())
    bea = Member("bea", "administrator", MemberStatus.ACTIVE)
    assert roles_offered(csb, roles, [ada, ann, bea], member=ada, features=csb.feature_defaults) == tuple(roles.values())


def test_N12_a_guardian_by_right_is_offered_every_role_that_still_manages_members() -> None:
    roles = _roles("natero")
    lead = Member("lea", "csm_manager", MemberStatus.ACTIVE)
    offered = roles_offered(NATERO, roles, [lead, Member("ann", "csm", MemberStatus.ACTIVE)], member=lead, features=NATERO.feature_defaults)
    assert [r.id for r in offered] == ["csm_manager", "analyst"]  # both grant managing members; the CSM role does not
