"""Reading inside FEEL values: ``ctx.key``, ``list.key``, ``date.year``, ``duration.days``, ``list[2]``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from .values import YearsMonthsDuration

_PROPERTIES: dict[str, Callable[[Any], Any]] = {
    "year": lambda v: v.year, "month": lambda v: v.month, "day": lambda v: v.day,
    "weekday": lambda v: v.isoweekday(), "hour": lambda v: v.hour, "minute": lambda v: v.minute,
    "second": lambda v: Decimal(v.second) + Decimal(v.microsecond) / 1_000_000,
    "time offset": lambda v: v.utcoffset(), "timezone": lambda v: getattr(v.tzinfo, "key", None),
    "years": lambda v: v.years, "months": lambda v: v.months - v.years * 12,
    "days": lambda v: v.days if v >= timedelta(0) else -(-v).days,
    "hours": lambda v: _dtd_part(v, 3600, 24), "minutes": lambda v: _dtd_part(v, 60, 60),
    "seconds": lambda v: _dtd_part(v, 1, 60),
}
_ALLOWED = {
    date: {"year", "month", "day", "weekday"},
    datetime: {"year", "month", "day", "weekday", "hour", "minute", "second", "time offset", "timezone"},
    time: {"hour", "minute", "second", "time offset", "timezone"},
    YearsMonthsDuration: {"years", "months"}, timedelta: {"days", "hours", "minutes", "seconds"},
}


def _dtd_part(value: timedelta, unit: int, modulo: int) -> int:
    sign = -1 if value < timedelta(0) else 1
    seconds = int(abs(value).total_seconds())
    return sign * ((seconds // unit) % modulo)


def get_path(value: Any, key: str) -> Any:
    """``value.key``: a context entry, a list mapped element-wise, or a date/time/duration part."""
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, list):
        return [get_path(v, key) for v in value]
    for cls in (datetime, date, time, YearsMonthsDuration, timedelta):
        if isinstance(value, cls):
            if key not in _ALLOWED[cls]:
                return None
            result = _PROPERTIES[key](value)
            return Decimal(result) if isinstance(result, int) else result
    return None


def select(values: list[Any], index: Decimal) -> Any:
    if not index.is_finite() or index != index.to_integral_value():
        return None
    position = int(index)
    if position > 0 and position <= len(values):
        return values[position - 1]
    if position < 0 and -position <= len(values):
        return values[position]
    return None
