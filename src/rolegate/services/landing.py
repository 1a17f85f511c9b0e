"""A role's landing page (N4) as the admin UI shows it: per top-level object type, the
first records the member may view, as the engine's `lookup` filters them in SQL (never
every record of the workspace), with who each is assigned to."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.errors import NotFoundError
from rolegate.domain.schema import LandingPage
from rolegate.engine import Record, Snapshot
from rolegate.store.uow import UnitOfWork

__all__ = ["LANDING_ROWS", "LandingSection", "LandingView", "RecordRow", "landing_view"]

LANDING_ROWS = 100
"""Records shown per object type; the host product's own page lists the rest."""


@dataclass(frozen=True, slots=True)
class RecordRow:
    record: Record
    assignee: str
    """Who the record is assigned to (their name, else email); empty: no one."""


@dataclass(frozen=True, slots=True)
class LandingSection:
    label: str
    rows: tuple[RecordRow, ...]
    more: bool
    """More records follow than `LANDING_ROWS`."""


@dataclass(frozen=True, slots=True)
class LandingView:
    landing: LandingPage
    sections: tuple[LandingSection, ...]
    revision: int


def landing_view(
    uow: UnitOfWork, snapshot: Snapshot, *, workspace_id: str, member_id: str, landing_page: str
) -> LandingView:
    """The records `member_id` may view per top-level object type, `LANDING_ROWS` at
    most each: one page query and one read of those records per type, one read per
    assignee shown."""
    schema = snapshot.schema
    landing = schema.landing_pages.get(landing_page)
    if landing is None:
        raise NotFoundError(f"no landing page {landing_page!r}", decision=None, fix="Use the navigation.")
    sections: list[LandingSection] = []
    names: dict[str, str] = {}
    with uow:
        for otype in schema.objects.values():
            if otype.parent is not None or otype.view_action is None:
                continue
            page = uow.records_bulk.visible_page(
                snapshot.lookup(member_id, otype.view_action, otype.key), workspace_id, cursor=None, limit=LANDING_ROWS
            )
            found = uow.records_bulk.get_many(workspace_id, [(otype.key, i) for i in page.ids])
            records = [found[ref] for ref in sorted(found, key=lambda ref: ref.id)]
            for r in records:
                if r.assignee and r.assignee not in names:
                    info = uow.members.get(workspace_id, r.assignee)
                    names[r.assignee] = (info.name or info.email) if info is not None else r.assignee
            rows = tuple(RecordRow(r, names[r.assignee] if r.assignee else "") for r in records)
            sections.append(LandingSection(otype.label, rows, page.next_cursor is not None))
    return LandingView(landing, tuple(sections), snapshot.revision)
