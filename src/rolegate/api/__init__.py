"""The HTTP API (FastAPI): thin routes onto the services and the engine."""

from rolegate.api.app import create_app

__all__ = ["create_app"]
