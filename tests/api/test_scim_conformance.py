"""scim2-tester, a SCIM conformance checker nobody here wrote, against a live server
(uvicorn, real HTTP, scim2-client over httpx2): every check it runs passes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from rolegate.bootstrap import bootstrap
from rolegate.config import Settings
from tests.api.scim_server import LiveScim, live_scim


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveScim]:
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/conformance.db", listen=False))
    rg.create_tables()
    try:
        with live_scim(rg) as server:
            yield server
    finally:
        rg.close()


def test_scim2_tester_finds_nothing_wrong(live: LiveScim) -> None:
    with httpx2.Client(base_url=live.url, headers={"Authorization": f"Bearer {live.key}"}, timeout=30) as http:
        client = SyncSCIMClient(http)
        client.discover()
        results = check_server(client)
    failed = [f"{r.title}: {r.reason}" for r in results if r.status is not Status.SUCCESS]
    assert failed == [], "\n".join(failed)  # none skipped either: discovery, CRUD, filters, attributes, .search, PATCH add/replace/remove
    assert len(results) >= 100  # 111 checks with scim2-tester 0.5
