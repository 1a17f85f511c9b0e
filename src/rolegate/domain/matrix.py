"""T6: the permission matrix: every role x every permission, grouped by area, with
the marks the admin pages show (locked by the level T7, inert without a feature E5 or
a requirement E6, unavailable above the ceiling). An inert cell carries why, so the
page can say which feature is off or which permission is missing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from rolegate.domain.permissions import PermissionStatus, resolve_permissions
from rolegate.domain.roles import Role
from rolegate.domain.schema import ProductSchema

__all__ = ["Cell", "Inert", "Matrix", "MatrixRow", "permission_matrix"]


class Cell(StrEnum):
    ON = "on"
    LOCKED = "locked"
    """On because the level's floor holds it (T7 grey box)."""
    INERT = "inert"
    """Granted but without effect: feature off (E5) or a requirement missing (E6)."""
    OFF = "off"
    UNAVAILABLE = "unavailable"
    """Above the level's ceiling: cannot be granted."""


@dataclass(frozen=True, slots=True)
class Inert:
    """Why a granted permission has no effect: the workspace lacks `feature` (E5), or
    the role lacks the effective permissions `missing` that it needs (E6)."""

    feature: str | None = None
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MatrixRow:
    area: str
    permission: str
    label: str
    cells: tuple[Cell, ...]
    inert: tuple[Inert | None, ...] = ()
    """Per cell: why an inert cell has no effect; None for every other cell."""


@dataclass(frozen=True, slots=True)
class Matrix:
    roles: tuple[Role, ...]
    rows: tuple[MatrixRow, ...]

    def cell(self, role_id: str, permission: str) -> Cell:
        col = next(i for i, r in enumerate(self.roles) if r.id == role_id)
        return next(row.cells[col] for row in self.rows if row.permission == permission)

    def in_area(self, area: str | None) -> Matrix:
        """The rows of one area (the page's area filter); None: every area."""
        if area is None:
            return self
        return replace(self, rows=tuple(row for row in self.rows if row.area == area))


def permission_matrix(schema: ProductSchema, roles: Sequence[Role], features: frozenset[str]) -> Matrix:
    states = [resolve_permissions(schema, r.level, r.grants, features, system_role=r.is_system) for r in roles]
    rows: list[MatrixRow] = []
    for area in schema.areas:
        for key, perm in schema.permissions.items():
            if perm.area != area:
                continue
            cells: list[Cell] = []
            inert: list[Inert | None] = []
            for role, st in zip(roles, states, strict=True):
                s = st[key]
                level = schema.levels[role.level]
                why: Inert | None = None
                if s.effective:
                    cells.append(Cell.LOCKED if s.from_floor else Cell.ON)
                elif s.status is PermissionStatus.FEATURE_OFF:
                    cells.append(Cell.INERT)
                    why = Inert(feature=perm.feature)
                elif s.status is PermissionStatus.REQUIREMENT_MISSING:
                    cells.append(Cell.INERT)
                    why = Inert(missing=s.missing)
                elif key not in level.ceiling or (perm.system_only and not role.is_system):
                    cells.append(Cell.UNAVAILABLE)
                else:
                    cells.append(Cell.OFF)
                inert.append(why)
            rows.append(MatrixRow(area, key, perm.label, tuple(cells), tuple(inert)))
    return Matrix(tuple(roles), tuple(rows))
