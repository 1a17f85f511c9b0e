"""The permission matrix (T6): every role x every permission, grouped by area, with
the marks of `domain.matrix` (locked by the level, inert, unavailable); filtered to one
area by `?area=` (a plain GET form, swapped in by htmx where it runs); and as CSV."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from rolegate.domain.matrix import MatrixRow
from rolegate.services.csv_export import csv_text, role_facts
from rolegate.services.roles import MatrixPage, matrix_page
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.pages import page_router, render, session_of, ui_of

router = page_router()


@dataclass(frozen=True, slots=True)
class AreaRows:
    key: str
    label: str
    rows: list[MatrixRow]


def _matrix(request: Request, workspace_id: str) -> tuple[WorkspaceContext, MatrixPage]:
    page = open_workspace(ui_of(request), request, session_of(request), workspace_id, current="matrix")
    return page, matrix_page(page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=workspace_id)


@router.get("/w/{workspace_id}/matrix")
def matrix(request: Request, workspace_id: str) -> Response:
    page, read = _matrix(request, workspace_id)
    asked = request.query_params.get("area") or None
    # An area this product lacks (a stale link) shows every area, as the filter's "All".
    area = asked if asked in read.schema.areas else None
    m = read.matrix.in_area(area)
    areas: list[AreaRows] = []
    for row in m.rows:
        if not areas or areas[-1].key != row.area:
            areas.append(AreaRows(row.area, read.schema.areas[row.area].label, []))
        areas[-1].rows.append(row)
    return render(
        request, "matrix.html", {"matrix": m, "areas": areas, "area": area, "schema": read.schema}, page=page
    )


@router.get("/w/{workspace_id}/matrix.csv")
def matrix_csv(request: Request, workspace_id: str) -> Response:
    _, read = _matrix(request, workspace_id)
    m = read.matrix
    header = ["area", "permission", "label", *(r.name for r in m.roles)]
    rows = [
        [read.schema.areas[row.area].label, row.permission, row.label, *(c.value for c in row.cells)] for row in m.rows
    ]
    rows += role_facts(read.schema, m.roles)
    filename = f"permission-matrix-{read.preset}.csv"
    return Response(
        csv_text(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
