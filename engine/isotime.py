"""ISO-8601 durations, date-times and repeating intervals, with Java/Camunda month arithmetic.

Camunda computes timers with calendar fields: ``2025-01-31 + P1M`` is ``2025-02-28`` (the
day is clamped to the month's length), not SpiffWorkflow's "add the days of each month".
Calendar parts (years, months, weeks, days) move the wall clock in the site's time zone;
time parts (hours, minutes, seconds) are exact elapsed time.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal

UTC = UTC

_DURATION = re.compile(
    r"^(?P<sign>[-+])?P(?!$)"
    r"(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class IsoDuration:
    """An ISO-8601 duration kept field by field, so months stay months."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: Decimal = Decimal(0)
    negative: bool = False

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months

    @property
    def total_days(self) -> int:
        return self.weeks * 7 + self.days

    def time_part(self) -> timedelta:
        return timedelta(hours=self.hours, minutes=self.minutes, seconds=float(self.seconds))

    def is_zero(self) -> bool:
        return not (self.total_months or self.total_days or self.time_part())

    def add_to(self, instant: datetime, tz: tzinfo | None = None) -> datetime:
        """``instant + self`` (or minus, for a negative duration) the way Java's calendar does it."""
        return _shift(instant, self, -1 if self.negative else 1, tz)

    def subtract_from(self, instant: datetime, tz: tzinfo | None = None) -> datetime:
        return _shift(instant, self, 1 if self.negative else -1, tz)

    def __str__(self) -> str:
        out = "-P" if self.negative else "P"
        for value, unit in ((self.years, "Y"), (self.months, "M"), (self.weeks, "W"), (self.days, "D")):
            if value:
                out += f"{value}{unit}"
        if self.hours or self.minutes or self.seconds:
            out += "T"
            for value, unit in ((self.hours, "H"), (self.minutes, "M"), (self.seconds, "S")):
                if value:
                    out += f"{value}{unit}"
        return out if out not in ("P", "-P") else "PT0S"


def parse_duration(text: str) -> IsoDuration:
    """Parse ``P3M``, ``P6W``, ``P1Y2M10DT2H30M``, ``PT0.5S``, ``-P1D``; raise ``ValueError`` otherwise."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not an ISO-8601 duration (expected e.g. P3M, P6W, PT12H)")
    parts = match.groupdict()
    seconds = Decimal((parts["seconds"] or "0").replace(",", "."))
    return IsoDuration(
        years=int(parts["years"] or 0),
        months=int(parts["months"] or 0),
        weeks=int(parts["weeks"] or 0),
        days=int(parts["days"] or 0),
        hours=int(parts["hours"] or 0),
        minutes=int(parts["minutes"] or 0),
        seconds=seconds,
        negative=parts["sign"] == "-",
    )


def add_months(value: date, months: int) -> date:
    """Add calendar months, clamping the day to the target month's length (Jan 31 + 1 = Feb 28)."""
    index = value.year * 12 + (value.month - 1) + months
    year, month = divmod(index, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def _shift(instant: datetime, duration: IsoDuration, sign: int, tz: tzinfo | None) -> datetime:
    original_zone = instant.tzinfo
    local = instant.astimezone(tz) if (tz is not None and original_zone is not None) else instant
    local = add_months(local, sign * duration.total_months)
    local = local + timedelta(days=sign * duration.total_days)
    if original_zone is not None:
        # Elapsed time is added on the absolute time line, not the wall clock.
        return (local.astimezone(UTC) + sign * duration.time_part()).astimezone(original_zone)
    return local + sign * duration.time_part()


def parse_datetime(text: str, tz: tzinfo = UTC) -> datetime:
    """Parse an ISO-8601 date or date-time; one without an offset is read in ``tz``. Result in UTC."""
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"'{text}' is not an ISO-8601 date-time (expected e.g. 2027-01-01T09:00:00Z)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class IsoCycle:
    """``R[n]/[start/]interval[/end]``: ``repetitions`` None means unbounded."""

    repetitions: int | None
    interval: IsoDuration
    start: datetime | None = None
    end: datetime | None = None

    def occurrence(self, index: int, anchor: datetime, tz: tzinfo | None = None) -> datetime:
        """The ``index``-th firing (0-based): from ``start`` (or, without one, from ``anchor``,
        the instant the timer was reached) the interval is added once per firing, each time to
        the previous firing, as Camunda 7's DurationHelper does: ``R/P1M`` from Jan 31 fires on
        Feb 28, Mar 28, Apr 28 (a clamped day stays clamped)."""
        current, steps = (self.start, index) if self.start is not None else (anchor, index + 1)
        for _ in range(steps):
            current = self.interval.add_to(current, tz)
        return current


def parse_cycle(text: str, tz: tzinfo = UTC) -> IsoCycle:
    """Parse ``R3/P2W``, ``R/P6M``, ``R5/2027-01-01T09:00Z/P1D``, ``R/P1D/2027-06-01T00:00Z``."""
    parts = text.strip().split("/")
    head = parts[0].upper()
    if not head.startswith("R") or len(parts) not in (2, 3):
        raise ValueError(f"'{text}' is not an ISO-8601 repeating interval (expected e.g. R3/P2W)")
    count = head[1:]
    if count and not count.isdigit():
        raise ValueError(f"'{text}': the repetition count '{count}' is not a whole number")
    repetitions = int(count) if count else None
    start = end = None
    if len(parts) == 2:
        interval = parse_duration(parts[1])
    elif parts[1].upper().startswith("P"):
        interval, end = parse_duration(parts[1]), parse_datetime(parts[2], tz)
        start = interval.subtract_from(end, tz)
    else:
        start, interval = parse_datetime(parts[1], tz), parse_duration(parts[2])
    if interval.is_zero() or interval.negative:
        raise ValueError(f"'{text}': the interval must be a positive duration")
    return IsoCycle(repetitions=repetitions, interval=interval, start=start, end=end)


def looks_like_iso_timer(text: str) -> bool:
    """True for text that is an ISO-8601 literal (duration, date-time or cycle), not a FEEL expression."""
    raw = text.strip()
    for parse in (parse_duration, parse_datetime, parse_cycle):
        try:
            parse(raw)
            return True
        except ValueError:
            continue
    return False
