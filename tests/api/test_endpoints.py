"""`api/endpoints.in_one_hop` (issue 18): a route's plain function and the validation
of what it returns take one worker-thread hop, not FastAPI's two; what the route
answers is unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from fastapi import APIRouter, FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel

from rolegate.api.limits import ApiRoute


class Thing(BaseModel):
    name: str
    count: int


def _app() -> FastAPI:
    router = APIRouter(route_class=ApiRoute)

    @router.get("/things/{name}", response_model=Thing, summary="A thing")
    def thing(name: str, response: Response) -> dict[str, Any]:
        """Returns a dict: the response model validates (and converts) it."""
        response.headers["X-Seen"] = name
        return {"name": name, "count": "3"}

    @router.get("/broken", response_model=Thing)
    def broken() -> dict[str, Any]:
        return {"name": "x"}  # no count: the response does not validate

    @router.get("/async", response_model=Thing)
    async def asynchronous() -> Thing:
        return Thing(name="a", count=1)

    app = FastAPI()
    app.include_router(router)
    return app


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[Callable[..., Any]]:
    """The functions handed to a worker thread (Starlette's and FastAPI's
    `run_in_threadpool` both go through `anyio.to_thread.run_sync`)."""
    calls: list[Callable[..., Any]] = []
    real = anyio.to_thread.run_sync

    async def counting(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(func)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return calls


def test_a_plain_route_and_its_response_validation_take_one_hop(hops: list[Callable[..., Any]]) -> None:
    with TestClient(_app()) as client:
        hops.clear()
        answer = client.get("/things/lamp")
    assert (answer.status_code, answer.json(), answer.headers["X-Seen"]) == (200, {"name": "lamp", "count": 3}, "lamp")
    assert len(hops) == 1, hops


def test_a_response_that_does_not_validate_is_still_a_server_error() -> None:
    with TestClient(_app(), raise_server_exceptions=False) as client:
        assert client.get("/broken").status_code == 500


def test_a_coroutine_route_is_left_as_it_is(hops: list[Callable[..., Any]]) -> None:
    app = _app()
    with TestClient(app) as client:
        hops.clear()
        assert client.get("/async").json() == {"name": "a", "count": 1}
    assert hops == []


def test_a_wrapped_route_keeps_its_operation() -> None:
    """The coroutine that replaces a plain function has the function's name, docstring
    and signature: the OpenAPI operation and its parameters are the function's."""
    schema = _app().openapi()["paths"]["/things/{name}"]["get"]
    assert (schema["summary"], schema["operationId"]) == ("A thing", "thing_things__name__get")  # the function's own name and signature
    assert [p["name"] for p in schema["parameters"]] == ["name"]
    assert schema["description"].startswith("Returns a dict")
