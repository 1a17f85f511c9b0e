"""A small Todo application that decides with Rolegate in its own process.

The application keeps its todos itself (here in memory); Rolegate knows its members
and roles. Every request names the signed-in member (`X-Member`: a real application
takes it from its session). Decisions come from `rolegate_sdk.Rolegate`: the
workspace's snapshot compiled in this process and kept fresh by the change feed, with
the application's own todos as the record index (`records=`), so even record-level
checks and lists never leave the process:

* `GET /todos`: the todos the member may view: `lookup` gives a filter, applied to
  the application's own store (a real one turns it into its database's WHERE clause);
  each todo's fields go through `filter_records` (fields the member may not read are
  dropped);
* `POST /todos`: creating needs the update action at all (`require`);
* `PATCH /todos/{id}`: updating needs the update action on that todo (`require` with
  the record: 404 when the member may not even see it, 403 when they see it but may
  not change it);
* `?min_revision=` on any call: the revision an administrator's change returned, to
  read that change at once.

The workspace here runs the Natero preset: a todo is an account, its owner the
assignee (`OBJECT`, `VIEW`, `UPDATE` below). `examples/todo/schema.yaml` models the
AuthZEN Todo application as a product of its own: register it with
`rolegate schema register examples/todo/schema.yaml`, create a workspace of product
`todo`, and point the three names at `todo`, `can_read_todos` and `can_update_todo`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Query
from pydantic import BaseModel

from rolegate.domain.errors import NotFoundError, PermissionDeniedError
from rolegate.engine import Record, RecordRef
from rolegate_sdk import Rolegate

__all__ = ["OBJECT", "TodoStore", "create_app"]

OBJECT = "account"
"""The product's object type a todo is (Natero: an account)."""
VIEW = "accounts.view"
UPDATE = "accounts.update_attributes"


@dataclass(frozen=True)
class Todo:
    id: str
    title: str
    owner: str | None
    done: bool = False

    def fields(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.title, "owner": self.owner, "done": self.done}


class TodoStore:
    """The application's own todos; also Rolegate's record index (`get`)."""

    def __init__(self) -> None:
        self._todos: dict[str, Todo] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, title: str, owner: str | None) -> Todo:
        with self._lock:
            todo = Todo(f"todo-{next(self._ids)}", title, owner)
            self._todos[todo.id] = todo
            return todo

    def update(self, todo: Todo) -> None:
        with self._lock:
            self._todos[todo.id] = todo

    def find(self, todo_id: str) -> Todo | None:
        return self._todos.get(todo_id)

    def __iter__(self) -> Iterator[Todo]:
        return iter(list(self._todos.values()))

    def get(self, ref: RecordRef) -> Record | None:
        todo = self._todos.get(ref[1]) if ref[0] == OBJECT else None
        return None if todo is None else Record(OBJECT, todo.id, assignee=todo.owner)


Member = Annotated[str, Header(alias="X-Member")]
"""The signed-in member (a real application takes it from its session)."""
MinRevision = Annotated[int | None, Query(ge=0)]


class TodoIn(BaseModel):
    title: str
    owner: str | None = None


class TodoPatch(BaseModel):
    title: str | None = None
    done: bool | None = None


def create_app(rolegate: Rolegate, store: TodoStore) -> FastAPI:
    """The application over a `Rolegate` built with `records=store`."""
    app = FastAPI(title="Todo (Rolegate SDK example)")

    @app.exception_handler(PermissionDeniedError)
    async def refused(_request: Any, exc: Exception) -> Any:
        from fastapi.responses import JSONResponse

        status = 404 if isinstance(exc, NotFoundError) else 403
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.get("/todos")
    def list_todos(member: Member, min_revision: MinRevision = None) -> dict[str, Any]:
        visible = rolegate.lookup(member, VIEW, OBJECT, min_revision=min_revision)
        rows = [t.fields() for t in store if visible.matches(store, RecordRef(OBJECT, t.id))]
        shown = rolegate.filter_records(member, OBJECT, rows)
        # `id` is the application's key, not a field of the product: always returned.
        return {"todos": [{"id": row["id"], **shown_row} for row, shown_row in zip(rows, shown, strict=True)], "revision": rolegate.revision}

    @app.post("/todos", status_code=201)
    def create_todo(body: TodoIn, member: Member, min_revision: MinRevision = None) -> dict[str, Any]:
        rolegate.require(member, UPDATE, min_revision=min_revision)
        return store.add(body.title, body.owner if body.owner is not None else member).fields()

    @app.patch("/todos/{todo_id}")
    def update_todo(todo_id: str, body: TodoPatch, member: Member, min_revision: MinRevision = None) -> dict[str, Any]:
        todo = store.find(todo_id)
        if todo is None:
            raise HTTPException(404, f"no todo {todo_id!r}")
        rolegate.require(member, UPDATE, RecordRef(OBJECT, todo_id), min_revision=min_revision)
        changed = replace(todo, title=body.title if body.title is not None else todo.title, done=body.done if body.done is not None else todo.done)
        store.update(changed)
        return changed.fields()

    return app
