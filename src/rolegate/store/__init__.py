"""The only package that speaks SQL: tables, repositories, the unit of work."""

from sqlalchemy import Engine

from rolegate.store.database import is_postgres, make_engine
from rolegate.store.tables import metadata
from rolegate.store.uow import UnitOfWork

__all__ = ["Engine", "UnitOfWork", "is_postgres", "make_engine", "metadata"]
