"""T6: the permission matrix: every role x every permission, grouped by area, with
the marks the admin pages show (locked by the level T7, inert without a feature E5 or
a requirement E6, unavailable above the ceiling)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from rolegate.domain.permissions import PermissionStatus, resolve_permissions
from rolegate.domain.roles import Role
from rolegate.domain.schema import ProductSchema

__all__ = ["Cell", "Matrix", "MatrixRow", "permission_matrix"]


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
class MatrixRow:
    area: str
    permission: str
    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Matrix:
    roles: tuple[Role, ...]
    rows: tuple[MatrixRow, ...]

    def cell(self, role_id: str, permission: str) -> Cell:
        col = next(i for i, r in enumerate(self.roles) if r.id == role_id)
        return next(row.cells[col] for row in self.rows if row.permission == permission)


def permission_matrix(schema: ProductSchema, roles: Sequence[Role], features: frozenset[str]) -> Matrix:
    states = [resolve_permissions(schema, r.level, r.grants, features, system_role=r.is_system) for r in roles]
    rows: list[MatrixRow] = []
    for area in schema.areas:
        for key, perm in schema.permissions.items():
            if perm.area != area:
                continue
            cells: list[Cell] = []
            for role, st in zip(roles, states, strict=True):
                s = st[key]
                level = schema.levels[role.level]
                if s.effective:
                    cells.append(Cell.LOCKED if s.from_floor else Cell.ON)
                elif s.status in (PermissionStatus.FEATURE_OFF, PermissionStatus.REQUIREMENT_MISSING):
                    cells.append(Cell.INERT)
                elif key not in level.ceiling or (perm.system_only and not role.is_system):
                    cells.append(Cell.UNAVAILABLE)
                else:
                    cells.append(Cell.OFF)
            rows.append(MatrixRow(area, key, perm.label, tuple(cells)))
    return Matrix(tuple(roles), tuple(rows))
