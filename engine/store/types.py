"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, always aware and in UTC when it comes back from the database.

    PostgreSQL stores it as ``timestamptz``. SQLite has no time zone type, so the value is
    written as naive UTC text in SQLAlchemy's fixed-width format: that keeps string
    comparison (``due_at < ?``) chronological, which the task queries and the timer index
    depend on. Naive datetimes are refused: a clinical due date with a guessed zone is a
    silent bug; callers convert with :func:`engine.clock.as_utc` first.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store aware datetimes (UTC) only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: we wrote naive UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)  # PostgreSQL answers in the session's TimeZone


def json_type(nullable: bool = False) -> TypeEngine[Any]:
    """Plain ``JSON`` (``json`` on PostgreSQL, text on SQLite).

    ``json`` rather than ``jsonb`` on PostgreSQL: the big columns (workflow state, specs) are
    opaque blobs that are written often and never queried inside, and ``json`` keeps them
    byte-for-byte. Nullable columns map Python ``None`` to SQL NULL, not to JSON ``null``,
    so ``IS NULL`` works.
    """
    return JSON(none_as_null=nullable)
