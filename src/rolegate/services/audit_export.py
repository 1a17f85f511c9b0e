"""The audit log as files (E8): CSV for a spreadsheet, JSON Lines for a SIEM. Each line
carries the event's hash and the previous one's, so an export can be checked on its own."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from rolegate.domain.audit_diff import diff
from rolegate.domain.workspace import AuditEvent
from rolegate.services.csv_export import csv_text

__all__ = ["CSV_COLUMNS", "event_record", "to_csv", "to_jsonl"]

CSV_COLUMNS = ("seq", "at", "actor", "actor_name", "action", "target_type", "target_id", "changes", "revision", "hash", "prev_hash")


def event_record(event: AuditEvent, names: Mapping[str, str]) -> dict[str, Any]:
    data = event.payload()
    data["hash"] = event.hash
    data["actor_name"] = names.get(event.actor, "")
    data["changes"] = [str(c) for c in diff(event.before, event.after)]
    return data


def to_jsonl(events: Iterable[AuditEvent], names: Mapping[str, str]) -> str:
    return "".join(json.dumps(event_record(e, names), sort_keys=True, default=str) + "\n" for e in events)


def to_csv(events: Iterable[AuditEvent], names: Mapping[str, str]) -> str:
    """Names, record ids and changes come from customers: `csv_text` keeps each cell text."""
    rows = []
    for e in events:
        rec = event_record(e, names)
        rows.append([rec["seq"], rec["at"], rec["actor"], rec["actor_name"], rec["action"], rec["target_type"], rec["target_id"], "; ".join(rec["changes"]), rec["revision"], rec["hash"], rec["prev_hash"]])
    return csv_text(CSV_COLUMNS, rows)
