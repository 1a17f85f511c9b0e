"""`rolegate serve` without the body limit (`api.limits.BodyLimit` taken out of the
app): the code before issue 12, for `bench/bigbody.py`'s side-by-side run only.

    python bench/_nolimit_serve.py --port 8001 --url sqlite:///...
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a file, bench/ comes first on sys.path, where bench/http.py would shadow the
# standard library's `http` (which uvicorn imports): drop it.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE]

import argparse  # noqa: E402
import gc  # noqa: E402

import uvicorn  # noqa: E402

from rolegate.api.limits import BodyLimit  # noqa: E402
from rolegate.asgi import create_app  # noqa: E402
from rolegate.bootstrap import bootstrap  # noqa: E402
from rolegate.config import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--url", required=True)
    args = parser.parse_args()
    rolegate = bootstrap(Settings.from_env(database_url=args.url))
    try:
        app = create_app(rolegate)
        app.user_middleware = [m for m in app.user_middleware if getattr(m, "cls", None) is not BodyLimit]
        gc.collect()
        gc.freeze()  # as `rolegate serve` does
        uvicorn.run(app, host="127.0.0.1", port=args.port, access_log=False)
    finally:
        rolegate.close()


if __name__ == "__main__":
    main()
