"""The stored simulated time: read it, and move it forward (never back)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import SimulatedTime

_ROW = 1


def stored_time(session: Session) -> datetime | None:
    return session.scalar(select(SimulatedTime.now).where(SimulatedTime.id == _ROW))


def store_time(session: Session, instant: datetime) -> datetime:
    """Move the stored time forward to ``instant`` (a later stored time wins) and return it."""
    session.execute(update(SimulatedTime).where(SimulatedTime.id == _ROW, SimulatedTime.now < instant)
                    .values(now=instant))
    found = stored_time(session)
    if found is None:
        try:
            with session.begin_nested():
                session.add(SimulatedTime(id=_ROW, now=instant))
        except IntegrityError:  # another process stored it first: keep the later of the two
            return store_time(session, instant)
        return instant
    return found
