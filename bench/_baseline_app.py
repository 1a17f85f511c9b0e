"""The floor of Rolegate's HTTP stack, for `bench/http.py`: a bare FastAPI app on
uvicorn, run exactly as `rolegate serve` runs its app (`uvicorn.run(app, host=...,
port=..., access_log=False)`: one worker, uvicorn's defaults otherwise, so
httptools and uvloop when installed, as `uvicorn[standard]` does), with the same two POST
routes. Each parses the request into Rolegate's own body models (`CheckIn`,
`BatchCheckIn`: the same validation) and answers a constant decision: no API key,
no snapshot, no engine.

    .venv/bin/python bench/_baseline_app.py --port 8001
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/_baseline_app.py` puts bench/ first on sys.path, where bench/http.py
# would shadow the standard library's `http` package that uvicorn imports.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402
from collections.abc import Sequence  # noqa: E402

import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.responses import Response  # noqa: E402

from rolegate.api.schemas.decisions import BatchCheckIn, CheckIn  # noqa: E402

DECISION = json.dumps(
    {
        "action": "accounts.update_attributes",
        "allowed": True,
        "scope": "assigned",
        "reasons": [
            {
                "code": "granted",
                "message": "'Customer Success Manager Seat' (granted by the role) grants it, scope assigned",
                "permission": "accounts.csm_seat",
                "rule": None,
            }
        ],
    },
    separators=(",", ":"),
)
CHECK_BODY = f'{DECISION[:-1]},"revision":1}}'


def create_app() -> FastAPI:
    app = FastAPI(title="baseline")

    @app.post("/v1/workspaces/{workspace_id}/check")
    async def check(workspace_id: str, body: CheckIn) -> Response:
        return Response(CHECK_BODY, media_type="application/json")

    @app.post("/v1/workspaces/{workspace_id}/check/batch")
    async def check_batch(workspace_id: str, body: BatchCheckIn) -> Response:
        # The same join Rolegate's batch does over its pre-rendered decisions.
        results = ",".join([DECISION] * len(body.checks))
        return Response(f'{{"results":[{results}],"revision":1}}', media_type="application/json")

    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host=args.host, port=args.port, access_log=False)


if __name__ == "__main__":
    main()
