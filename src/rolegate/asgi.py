"""The ASGI application a server runs, named by its import string
`rolegate.asgi:create_app_from_env` (a factory): `rolegate serve` hands it to uvicorn,
in one process or in each of `--workers N`, so the CLI imports nothing of the HTTP
app; any ASGI server runs it the same way (`uvicorn --factory rolegate.asgi:create_app_from_env`)."""

from __future__ import annotations

from rolegate.api.app import create_app_from_env

__all__ = ["create_app_from_env"]
