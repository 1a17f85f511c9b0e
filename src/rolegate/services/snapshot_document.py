"""The snapshot download: a workspace's snapshot document (`engine.document`) at its
current revision, for `GET /v1/workspaces/{ws}/snapshot`.

Read in one read transaction, the revision first: what follows is at least that
revision, and the snapshot cache's rule applies (a newer revision is announced by the
feed, and its document downloaded then). `If-None-Match` with the current revision
costs one primary-key read and no document.

The product schema travels as its source: the preset's YAML, read once per process.

Every SDK process downloads each new revision once, so the documents built last are
kept (`CACHED_DOCUMENTS`, per database engine): a workspace's document at a revision
never changes, and the next process asking for it costs the revision read alone.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from rolegate.domain.errors import NotFoundError
from rolegate.engine import snapshot_document
from rolegate.presets.loader import load_yaml
from rolegate.services.context import UnitOfWork
from rolegate.store import Engine
from rolegate.store.availability import reachable

__all__ = ["SnapshotDownload", "preset_source", "workspace_snapshot"]


CACHED_DOCUMENTS = 64
"""Documents kept per engine (the newest built), across workspaces."""

_documents: weakref.WeakKeyDictionary[Engine, OrderedDict[tuple[str, int], bytes]] = weakref.WeakKeyDictionary()
_documents_lock = threading.Lock()


def _cached(engine: Engine, workspace_id: str, revision: int) -> bytes | None:
    with _documents_lock:
        held = _documents.get(engine)
        return None if held is None else held.get((workspace_id, revision))


def _keep(engine: Engine, workspace_id: str, revision: int, body: bytes) -> None:
    with _documents_lock:
        held = _documents.setdefault(engine, OrderedDict())
        held[(workspace_id, revision)] = body
        while len(held) > CACHED_DOCUMENTS:
            held.popitem(last=False)


@dataclass(frozen=True, slots=True)
class SnapshotDownload:
    revision: int
    body: bytes | None
    """The document as compact JSON; None when the caller holds this revision already."""


@cache
def preset_source(key: str) -> dict[str, Any]:
    """A shipped preset's YAML as data (JSON-compatible): the document's `schema.source`.
    Shared: callers only read it."""
    text = resources.files("rolegate.presets").joinpath(f"{key}.yaml").read_text(encoding="utf-8")
    data = load_yaml(text)
    assert isinstance(data, dict)  # the shipped presets are mappings (tests/unit/presets)
    return data


def workspace_snapshot(uow: UnitOfWork, *, workspace_id: str, held_revision: int | None = None) -> SnapshotDownload:
    """The workspace's document now; `body` None when it is at `held_revision` still."""
    with reachable(), uow:
        ws = uow.workspaces.get(workspace_id)
        if ws is None:
            raise NotFoundError(f"no workspace {workspace_id!r}", decision=None, fix="Check the workspace id.")
        if held_revision is not None and held_revision == ws.revision:
            return SnapshotDownload(ws.revision, None)
        body = _cached(uow.engine, ws.id, ws.revision)
        if body is not None:
            return SnapshotDownload(ws.revision, body)
        document = snapshot_document(
            workspace_id=ws.id,
            revision=ws.revision,
            schema_source=preset_source(ws.preset),
            registry=uow.fields.registry(ws.id),
            features=ws.features,
            roles=[info.role for info in uow.roles.all(ws.id)],
            members=uow.members.members(ws.id),
            schema_version=ws.schema_version,
        )
    body = json.dumps(document, separators=(",", ":")).encode()
    _keep(uow.engine, ws.id, ws.revision, body)
    return SnapshotDownload(ws.revision, body)
