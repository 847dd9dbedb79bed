"""Building a ready-to-use service from a database URL (shared by the CLI and the API)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from .clock import Clock, SystemClock, site_timezone
from .service import Service
from .store import database_url, make_engine, make_session_factory, upgrade


@dataclass
class Runtime:
    url: str
    engine: Engine
    service: Service


def open_service(url: str | None = None, clock: Clock | None = None, migrate: bool = True) -> Runtime:
    """Connect, migrate to the latest schema and return a :class:`Service` on ``clock``."""
    resolved = database_url(url)
    engine = make_engine(resolved)
    if migrate:
        upgrade(engine)
    service = Service(make_session_factory(engine), clock or SystemClock(site_timezone()),
                      read_factory=make_session_factory(engine, read_only=True))
    return Runtime(resolved, engine, service)
