"""Rolegate's Python SDK.

`Rolegate` / `AsyncRolegate`: decisions in your own process, the server's engine
compiled from the workspace's snapshot and kept fresh by the change feed.
`RemoteClient` / `AsyncRemoteClient`: the HTTP API. Errors: `rolegate_sdk.errors`
(each also the engine's own error class for its code)."""

from rolegate.engine import Decision, Explanation, Filter, RecordRef
from rolegate_sdk._wire import Retry
from rolegate_sdk.errors import ApiError
from rolegate_sdk.local import AsyncRolegate, Rolegate
from rolegate_sdk.remote import AsyncRemoteClient, RemoteClient

__all__ = [
    "ApiError",
    "AsyncRemoteClient",
    "AsyncRolegate",
    "Decision",
    "Explanation",
    "Filter",
    "RecordRef",
    "RemoteClient",
    "Retry",
    "Rolegate",
]
