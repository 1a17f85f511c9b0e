"""What a role change would do, before it is made: a read use case for the editor.

`preview_role_change` answers two questions without changing anything:

* would saving be refused, and by which rules? It runs the real use case
  (`create_role` / `update_role`) in a transaction that is always rolled back, so the
  answer is the one saving gives, rule for rule, and no rule is written twice;
* what is the impact? The role's holders (active and invited) gain and lose effective
  permissions, and may move to another seat type (N2), which changes seat usage.

`deletion_refusal` does the same for deleting a role (N7, T8, T9, K4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rolegate.domain.errors import PermissionDeniedError, RuleViolationError
from rolegate.domain.permissions import PermissionState, resolve_permissions, role_permissions
from rolegate.domain.roles import MemberStatus, Role
from rolegate.domain.schema import AdminRight, ProductSchema
from rolegate.domain.seats import seat_of, seat_usage
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import Actor
from rolegate.services.context import authorize, load_state
from rolegate.services.role_views import RoleView
from rolegate.services.roles import built_role, changed_role, create_role, delete_role, stored_role_view, update_role
from rolegate.store.uow import UnitOfWork

__all__ = [
    "DeletionPage",
    "Refusal",
    "RolePreview",
    "SeatChange",
    "deletion_page",
    "deletion_refusal",
    "dry_run",
    "preview_role_change",
]


_NEW = "(new)"
"""The id a role not yet created is previewed under."""


class _RolledBack(UnitOfWork):
    """A unit of work whose commit does nothing: leaving it rolls everything back, so
    a use case run through it decides and validates exactly as it would, but writes
    nothing, bumps no revision and notifies no one (PostgreSQL's NOTIFY is sent only
    on commit)."""

    def commit(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a change would be refused: the rules' violations, or the actor's missing right."""

    violations: tuple[Violation, ...] = ()
    denied: str | None = None

    def __bool__(self) -> bool:
        return bool(self.violations) or self.denied is not None


def dry_run(uow: UnitOfWork, run: Callable[[UnitOfWork], object]) -> Refusal:
    """Runs a write use case through a unit of work that never commits: what it would
    refuse, and why; nothing is written."""
    try:
        run(_RolledBack(uow.engine))
    except RuleViolationError as exc:
        return Refusal(violations=exc.violations)
    except PermissionDeniedError as exc:
        return Refusal(denied=str(exc))
    return Refusal()


@dataclass(frozen=True, slots=True)
class SeatChange:
    seat: str
    label: str
    used_before: int
    used_after: int
    capacity: int | None

    @property
    def changed(self) -> bool:
        return self.used_before != self.used_after


@dataclass(frozen=True, slots=True)
class RolePreview:
    before: Role | None
    """The role as it is (None: a new role)."""
    after: Role
    """The role as it would be saved (level resolved, N2; a new role's floor added)."""
    active: int
    invited: int
    gained: tuple[str, ...]
    lost: tuple[str, ...]
    seat_before: str | None
    seat_after: str | None
    seats: tuple[SeatChange, ...]
    inert: tuple[PermissionState, ...]
    """Granted (or locked on) but without effect: feature off (E5), requirement missing (E6)."""
    refusal: Refusal

    @property
    def holders(self) -> int:
        return self.active + self.invited

    @property
    def seat_moves(self) -> bool:
        return self.before is not None and self.seat_before != self.seat_after and self.holders > 0


def preview_role_change(
    uow: UnitOfWork,
    *,
    actor: Actor,
    workspace_id: str,
    role_id: str | None,
    name: str,
    level: str | None,
    grants: Iterable[str],
    landing_page: str | None = None,
    description: str = "",
) -> RolePreview:
    """The impact of saving this role (`role_id` None: creating it) and whether the
    rules would refuse it. Changes nothing."""
    grant_set = frozenset(grants)
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
    schema, feats = state.schema, state.workspace.features
    before = state.role(role_id) if role_id is not None else None

    if role_id is not None:
        refusal = dry_run(
            uow,
            lambda dry: update_role(
                dry,
                actor=actor,
                workspace_id=workspace_id,
                role_id=role_id,
                name=name,
                level=level,
                grants=grant_set,
                landing_page=landing_page,
                description=description,
            ),
        )
    else:
        refusal = dry_run(
            uow,
            lambda dry: create_role(
                dry,
                actor=actor,
                workspace_id=workspace_id,
                name=name,
                level=level,
                grants=grant_set,
                landing_page=landing_page,
                description=description,
            ),
        )

    after = _after(
        schema, before, name=name, level=level, grants=grant_set, landing_page=landing_page, description=description
    )
    eff_after = role_permissions(schema, after, feats)
    eff_before = role_permissions(schema, before, feats) if before is not None else frozenset()
    holders = [m for m in state.members if before is not None and m.role == before.id]
    used_before = seat_usage(schema, state.roles, state.members)
    used_after = (
        seat_usage(schema, {**state.roles, after.id: after}, state.members) if before is not None else used_before
    )
    states = resolve_permissions(schema, after.level, after.grants, feats, system_role=after.is_system)
    inert = tuple(
        s
        for k, s in states.items()
        if k in (after.grants | schema.levels[after.level].floor)
        and not s.effective
        and s.status.value in ("feature_off", "requirement_missing")
    )
    order = list(schema.permissions)
    return RolePreview(
        before=before,
        after=after,
        active=sum(m.status is MemberStatus.ACTIVE for m in holders),
        invited=sum(m.status is MemberStatus.INVITED for m in holders),
        gained=tuple(k for k in order if k in eff_after - eff_before),
        lost=tuple(k for k in order if k in eff_before - eff_after),
        seat_before=seat_of(schema, before) if before is not None else None,
        seat_after=seat_of(schema, after),
        seats=tuple(
            SeatChange(
                key,
                seat.label,
                used_before.get(key, 0),
                used_after.get(key, 0),
                state.workspace.seat_capacities.get(key),
            )
            for key, seat in schema.seats.items()
        ),
        inert=inert,
        refusal=refusal,
    )


def _after(
    schema: ProductSchema,
    before: Role | None,
    *,
    name: str,
    level: str | None,
    grants: frozenset[str],
    landing_page: str | None,
    description: str,
) -> Role:
    """The role saving would write, built by the use case's own builder (not derived
    again here, so the preview cannot show another role than the one saved). A level
    the rules refuse (missing or unknown, N8: the refusal says so) is shown as the
    role's own, or the lowest, so the rest of the impact can still be drawn."""
    fallback = before.level if before is not None else schema.levels_by_rank()[0].key
    for chosen in (level, fallback):
        try:
            if before is not None:
                return changed_role(
                    schema,
                    before,
                    name=name,
                    level=chosen,
                    grants=grants,
                    landing_page=landing_page,
                    description=description,
                )
            return built_role(
                schema,
                name=name,
                level=chosen,
                grants=grants,
                landing_page=landing_page,
                description=description,
                role_id=_NEW,
            )
        except RuleViolationError:
            continue
    # The fallback is the role's own level or the schema's lowest: the builder accepts it.
    raise AssertionError("unreachable")  # pragma: no cover - see above


def deletion_refusal(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str, replacement: str | None = None
) -> Refusal:
    """Why deleting the role (its holders moving to `replacement`) would be refused
    (empty: it would be deleted). Changes nothing."""
    return dry_run(
        uow, lambda dry: delete_role(dry, actor=actor, workspace_id=workspace_id, role_id=role_id, replacement=replacement)
    )


@dataclass(frozen=True, slots=True)
class DeletionPage:
    """The confirmation of deleting a role: the role, and why deleting it would be refused;
    where the product deletes a role still held (N7), the roles its holders may move to."""

    role: Role
    view: RoleView
    refusal: Refusal
    revision: int
    replacements: tuple[Role, ...] = ()


def deletion_page(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str, violations: tuple[Violation, ...] | None = None
) -> DeletionPage:
    """`violations`: what a deletion just tried was refused by (else a dry run says). A
    role still held in a product that replaces (N7) offers the roles whose dry run passes."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        role = state.role(role_id)
        view = stored_role_view(uow, state, role_id)
        held = any(m.role == role_id for m in state.members)
        candidates = (
            tuple(r for r in state.roles.values() if r.id != role_id)
            if held and state.schema.role_delete_with_members == "replace"
            else ()
        )
    if violations is not None:
        return DeletionPage(role, view, Refusal(violations=violations), state.workspace.revision)
    if not candidates:
        refusal = deletion_refusal(uow, actor=actor, workspace_id=workspace_id, role_id=role_id)
        return DeletionPage(role, view, refusal, state.workspace.revision)
    fitting = tuple(
        c
        for c in candidates
        if not deletion_refusal(uow, actor=actor, workspace_id=workspace_id, role_id=role_id, replacement=c.id)
    )
    if not fitting:  # none would do (N7: accounts still assigned): say why without one
        refusal = deletion_refusal(uow, actor=actor, workspace_id=workspace_id, role_id=role_id)
        return DeletionPage(role, view, refusal, state.workspace.revision)
    return DeletionPage(role, view, Refusal(), state.workspace.revision, fitting)
