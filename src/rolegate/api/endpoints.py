"""How a route's plain (sync) function runs: in one worker thread, with the
validation of what it returns against the route's response model, in one hop.

FastAPI runs a sync endpoint in a worker thread, then its response's validation in
another (`serialize_response`, for a non-coroutine endpoint): two hand-offs between
the event loop and the thread pool per call, each a wait for the GIL behind the loop
when it is busy deciding (issue 18: admin writes under load). Here the endpoint is
wrapped in a coroutine that does both in one hop; FastAPI then validates, on the loop,
a value that is already an instance of the model, which pydantic returns as it is."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

__all__ = ["in_one_hop"]


def in_one_hop(route: APIRoute, endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """`endpoint` itself when it is a coroutine function (or not a plain function),
    else a coroutine function of the same signature that runs it and validates its
    result against `route.response_field` (read at call time: the route makes it
    after it is given the endpoint) in one worker-thread call. A result that does not
    validate is returned unchanged: FastAPI reports it, as it would have."""
    if not inspect.isfunction(endpoint) or inspect.iscoroutinefunction(endpoint):
        return endpoint

    def call(kwargs: dict[str, Any]) -> Any:
        result = endpoint(**kwargs)
        field = route.response_field
        if field is None or isinstance(result, Response):
            return result
        value, errors = field.validate(result, {}, loc=("response",))
        return result if errors else value

    @functools.wraps(endpoint)
    async def run(**kwargs: Any) -> Any:
        return await run_in_threadpool(call, kwargs)

    return run
