"""What the application costs per decision request, without the HTTP server: each app
is called as an ASGI callable in one process, with the same pre-built request, so the
figure is the app's own work (routing, key, parsing, deciding, rendering), free of
the server's and the load generator's share, which `bench/http.py` includes.

Three apps on one event loop (uvloop, as `rolegate serve`): Rolegate with its fast
path (`api.fast`), Rolegate with the fast path off (every request through FastAPI's
route, as before), and the floor of `bench/http.py`, `bench/_baseline_app.py` (bare
FastAPI parsing the same models, a constant answer). The natero demo workspace on a
fresh SQLite file, the demo's API key; single `check` (64 random bodies, cycled) and
`check/batch` of 1,000 random checks. Rounds interleave the three apps; each figure
is the median of the rounds, in microseconds per request. Every answer of a timed
loop must be a 200.

    .venv/bin/python bench/asgi.py
    .venv/bin/python bench/asgi.py --quick
    .venv/bin/python bench/asgi.py --docs docs/benchmarks.md --json /tmp/asgi.json
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE] + [_HERE]

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from typing import Any  # noqa: E402

from _server import command_line, load_average, log, machine, now_utc, setup_demo, update_docs, versions  # noqa: E402

SEED = 20240917
DOCS_START = "<!-- bench:asgi:start"
DOCS_END = "<!-- bench:asgi:end -->"

App = Callable[..., Any]


def _baseline() -> App:
    spec = importlib.util.spec_from_file_location("_baseline_app", Path(_HERE) / "_baseline_app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app: App = module.create_app()
    return app


def _scope(path: str, key: str, body: bytes) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1"),
        (b"authorization", f"Bearer {key}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


async def _call(app: App, path: str, key: str, body: bytes) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(path, key, body), receive, send)
    return status


async def _timed(app: App, path: str, key: str, bodies: Sequence[bytes], n: int) -> float:
    """Microseconds per request over `n` requests cycling through `bodies`."""
    gc.collect()
    started = time.perf_counter()
    for k in range(n):
        status = await _call(app, path, key, bodies[k % len(bodies)])
        if status != 200:
            raise AssertionError(f"{path}: {status}")
    return (time.perf_counter() - started) / n * 1e6


def run(quick: bool) -> dict[str, Any]:
    import uvloop

    from rolegate.api.app import RolegateApp
    from rolegate.asgi import create_app
    from rolegate.bootstrap import bootstrap
    from rolegate.config import Settings

    t0, load0 = time.perf_counter(), load_average()
    rounds, n_check, n_batch = (2, 2_000, 20) if quick else (7, 20_000, 200)
    with tempfile.TemporaryDirectory(prefix="rolegate-bench-asgi-") as tmp:
        url = f"sqlite:///{tmp}/asgi.db"
        log(f"database {url}: rolegate db upgrade, rolegate demo ...")
        demo = setup_demo(url)
        rg = bootstrap(Settings(database_url=url, listen=False))
        try:
            app = create_app(rg)
            assert isinstance(app, RolegateApp)
            base = _baseline()
            snap = rg.snapshots.get(demo.workspace_id)
            rng = random.Random(SEED)
            members, actions = sorted(demo.members.values()), sorted(snap.schema.actions)
            checks = [json.dumps({"member": rng.choice(members), "action": rng.choice(actions)}).encode() for _ in range(64)]
            batches = [
                json.dumps({"checks": [{"member": rng.choice(members), "action": rng.choice(actions)} for _ in range(1000)]}).encode() for _ in range(4)
            ]
            ws = demo.workspace_id
            cases = [("check", f"/v1/workspaces/{ws}/check", checks, n_check), ("check/batch", f"/v1/workspaces/{ws}/check/batch", batches, n_batch)]
            apps: list[tuple[str, App, bool]] = [("Rolegate, fast path", app, True), ("Rolegate, FastAPI route", app, False), ("bare FastAPI (floor)", base, True)]
            figures: dict[str, dict[str, list[float]]] = {c: {a: [] for a, _, _ in apps} for c, _, _, _ in cases}

            async def measure() -> None:
                for _, path, bodies, _ in cases:  # warm-up: keys and workspace cached, snapshot compiled
                    for _, target, fast in apps:
                        app.fast_decisions.enabled = fast
                        await _timed(target, path, demo.api_key, bodies, 50 if path.endswith("check") else 2)
                for k in range(rounds):
                    for case, path, bodies, n in cases:
                        for name, target, fast in apps:
                            app.fast_decisions.enabled = fast
                            us = await _timed(target, path, demo.api_key, bodies, n)
                            figures[case][name].append(us)
                            log(f"round {k} {case:11} {name:24} {us:9.1f} us/request")
                app.fast_decisions.enabled = True

            uvloop.run(measure())
        finally:
            rg.close()
    result: dict[str, Any] = {
        "date": now_utc(),
        "machine": machine(),
        "versions": versions("rolegate", "fastapi", "starlette", "pydantic", "uvloop"),
        "rounds": rounds,
        "requests": {"check": n_check, "check/batch": n_batch},
        "figures": figures,
        "median_us": {c: {a: statistics.median(v) for a, v in per.items()} for c, per in figures.items()},
        "load_start": load0,
        "load_end": load_average(),
        "seconds": time.perf_counter() - t0,
    }
    return result


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    med = result["median_us"]
    lines = [
        "## What the app costs per request, without the server (bench/asgi.py)",
        "",
        f"- Command: `{result.get('command', '.venv/bin/python bench/asgi.py')}`",
        f"- Date: {result['date']}; run took {result['seconds']:.0f} s; load average (1, 5, 15 min) {', '.join(f'{v:.2f}' for v in result['load_start'])} at the start, {', '.join(f'{v:.2f}' for v in result['load_end'])} at the end",
        f"- Machine: {m['cpu']}, `nproc` = {m['nproc']}, {m['platform']}; Python {m['python']}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()),
        f"- Method: each app called as an ASGI callable on one uvloop event loop, the same pre-built requests (the natero demo, its API key; 64 random single checks cycled, 4 batches of 1,000 random checks); {result['requests']['check']:,} checks and {result['requests']['check/batch']:,} batches per timed loop; {result['rounds']} rounds interleaving the apps, median of the rounds; every answer a 200. No HTTP server: this is the app's own share of `bench/http.py`'s figures.",
        "",
        "| request | Rolegate, fast path (us) | Rolegate, FastAPI route (us) | bare FastAPI, the floor (us) | fast path / floor | fast path / route |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for case, per in med.items():
        fast, route, floor = per["Rolegate, fast path"], per["Rolegate, FastAPI route"], per["bare FastAPI (floor)"]
        lines.append(f"| `{case}` | {fast:,.1f} | {route:,.1f} | {floor:,.1f} | {fast / floor:.2f}x | {fast / route:.2f}x |")
    lines += ["", "(time per request: lower is better; a ratio under 1 means the fast path costs less)"]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke: 2 short rounds")
    parser.add_argument("--json", type=Path, help="write the result as JSON here")
    parser.add_argument("--docs", type=Path, help="write the section into this markdown file")
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(args_list)
    result = run(args.quick)
    result["command"] = command_line("bench/asgi.py", args_list)
    text = markdown(result)
    print(text)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.docs is not None:
        section = f"{DOCS_START} (generated by bench/asgi.py --docs; edits inside are overwritten) -->\n{text}{DOCS_END}"
        update_docs(args.docs, DOCS_START, DOCS_END, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
