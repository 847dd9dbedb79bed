"""The only place that reads the system time.

Everything that needs "now" (timers, due dates, FEEL ``now()``/``today()``, audit
timestamps) takes a :class:`Clock`. Production uses :class:`SystemClock`; tests, demos
and simulations use :class:`SimulatedClock`, which only moves when told to.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol

UTC = UTC


class Clock(Protocol):
    """A source of the current instant plus the site's time zone."""

    tz: tzinfo

    def now(self) -> datetime:
        """The current instant as an aware datetime in UTC."""
        ...

    def today(self) -> date:
        """The current calendar date in the site's time zone."""
        ...


class _ClockBase:
    tz: tzinfo = UTC

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()


class SystemClock(_ClockBase):
    """Wall-clock time."""

    def __init__(self, tz: tzinfo = UTC) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock(_ClockBase):
    """A clock that stands still until it is set or advanced. Thread-safe."""

    def __init__(self, start: datetime | None = None, tz: tzinfo = UTC) -> None:
        self.tz = tz
        self._lock = threading.Lock()
        self._now = as_utc(start or datetime(2026, 1, 1, 9, 0, tzinfo=UTC), tz)

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> datetime:
        instant = as_utc(instant, self.tz)
        with self._lock:
            if instant < self._now:
                raise ValueError(f"a simulated clock never goes back: {instant} is before {self._now}")
            self._now = instant
            return self._now

    def advance(self, delta: timedelta | str) -> datetime:
        """Move forward by a ``timedelta`` or an ISO-8601 duration such as ``P6W`` or ``P3M``."""
        if isinstance(delta, str):
            from .isotime import parse_duration  # local import keeps clock dependency-free

            target = parse_duration(delta).add_to(self.now())
        else:
            target = self.now() + delta
        return self.set(target)


def as_utc(instant: datetime, tz: tzinfo = UTC) -> datetime:
    """Give a datetime a zone (the site's, if it has none) and express it in UTC."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=tz)
    return instant.astimezone(UTC)


class FixedClock(_ClockBase):
    """A clock stopped at one instant: timers caught up after downtime run "as of" their due time."""

    def __init__(self, instant: datetime, tz: tzinfo = UTC) -> None:
        self.tz = tz
        self._now = as_utc(instant, tz)

    def now(self) -> datetime:
        return self._now


def site_timezone() -> tzinfo:
    """The site's time zone (``PATHWAY_TIMEZONE``, an IANA name; UTC by default).

    It decides how an offset-less ``timeDate``, a due *date* and ``today()`` are read, and on
    which wall clock calendar durations (``P1D``, ``P1M``) are added across DST changes.
    """
    import os
    from zoneinfo import ZoneInfo

    name = os.environ.get("PATHWAY_TIMEZONE", "UTC")
    return UTC if name.upper() == "UTC" else ZoneInfo(name)
