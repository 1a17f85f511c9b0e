"""SCIM provisioning benchmark (issue 17): what a directory's sync costs over HTTP.

One run, on a fresh SQLite database, against the app served by uvicorn in this
process (a thread, real sockets): a natero workspace without seat limits and a key
with the `scim` right, then

* `--users` Users created one after the other (`POST /Users`), as a first sync does;
* `--lookups` lookups `userName eq "..."`, the call Okta and Entra ID make before each
  create: read by index (`services.scim._candidates`), side by side with its peer,
  the same answer through a filter evaluated on every User (`userName ew "..."`, what
  a server without the index path does for any filter);
* pages of 100 Users (`GET /Users?startIndex=..&count=100`).

Reported: p50 and p99 of each, and the lookup's ratio to its peer. Every answer is
checked (201; exactly one User found; a full page).

    .venv/bin/python bench/scim.py                # 2,000 Users (about 2 minutes)
    .venv/bin/python bench/scim.py --quick        # smoke: 50 Users
    .venv/bin/python bench/scim.py --json out.json
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/scim.py` puts bench/ first on sys.path, where bench/http.py would
# shadow the standard library's `http` package; keep bench/ at the end instead.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE] + [_HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from rolegate.asgi import create_app  # noqa: E402
from rolegate.bootstrap import bootstrap  # noqa: E402
from rolegate.config import Settings  # noqa: E402
from rolegate.domain.workspace import Actor  # noqa: E402
from rolegate.services.api_keys import create_api_key  # noqa: E402
from rolegate.services.workspaces import create_organization, create_workspace  # noqa: E402

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _ms(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(p99 * 1000, 2), "n": len(ordered)}


def _timed(call: Any) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    r = call()
    return time.perf_counter() - start, r


def run(users: int, lookups: int, work: Path) -> dict[str, Any]:
    rg = bootstrap(Settings(database_url=f"sqlite:///{work / 'scim.db'}", listen=False))
    rg.create_tables()
    platform = Actor.system("bench")
    org = create_organization(rg.uow(), actor=platform, name="Bench")
    ws = create_workspace(rg.uow(), actor=platform, organization_id=org, name="SCIM", preset="natero", owner_email="owner@bench.io").workspace.id
    key = create_api_key(rg.uow(), organization_id=org, workspace_id=ws, rights={"scim"}, name="directory")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(rg), host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"))
    thread = threading.Thread(target=server.run, name="uvicorn-bench-scim", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/scim+json"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/scim/v2/workspaces/{ws}", headers=headers, timeout=60) as c:
            creates: list[float] = []
            for i in range(users):
                email = f"u{i}@bench.io"
                body = {"schemas": [USER], "userName": email, "emails": [{"value": email, "primary": True}], "active": True}
                took, r = _timed(lambda body=body: c.post("/Users", json=body))
                if r.status_code != 201:
                    raise RuntimeError(f"create {i}: {r.status_code} {r.text}")
                creates.append(took)
            indexed: list[float] = []
            scanned: list[float] = []
            for k in range(lookups):
                email = f"u{(k * 7919) % users}@bench.io"
                for filter_, into in ((f'userName eq "{email}"', indexed), (f'userName ew "{email}"', scanned)):
                    took, r = _timed(lambda f=filter_: c.get("/Users", params={"filter": f}))
                    found = r.json()
                    if r.status_code != 200 or found["totalResults"] != 1 or found["Resources"][0]["userName"] != email:
                        raise RuntimeError(f"lookup {filter_!r}: {r.status_code} {r.text[:200]}")
                    into.append(took)
            pages: list[float] = []
            for start in range(1, users + 1, 100):
                took, r = _timed(lambda s=start: c.get("/Users", params={"startIndex": s, "count": 100}))
                if r.status_code != 200 or r.json()["itemsPerPage"] != min(100, users - start + 1):
                    raise RuntimeError(f"page at {start}: {r.status_code}")
                pages.append(took)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        rg.close()
    lookup, peer = _ms(indexed), _ms(scanned)
    return {
        "users": users,
        "create": _ms(creates),
        "lookup_userName_eq": lookup,
        "lookup_full_scan_peer": peer,
        "lookup_p50_ratio": round(peer["p50_ms"] / lookup["p50_ms"], 1) if lookup["p50_ms"] else None,
        "page_of_100": _ms(pages),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--lookups", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="50 Users, 10 lookups: the same code paths, seconds")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    users, lookups = (50, 10) if args.quick else (args.users, args.lookups)
    with tempfile.TemporaryDirectory(prefix="bench-scim-") as work:
        result = run(users, lookups, Path(work))
    print(f"SCIM over HTTP, SQLite, {users} Users")
    for name in ("create", "lookup_userName_eq", "lookup_full_scan_peer", "page_of_100"):
        r = result[name]
        print(f"  {name:<24} p50 {r['p50_ms']:>8.2f} ms   p99 {r['p99_ms']:>8.2f} ms   (n={r['n']})")
    print(f"  the peer's lookup takes {result['lookup_p50_ratio']}x the indexed one (p50)")
    if args.json is not None:
        args.json.write_text(json.dumps({"results": result}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
