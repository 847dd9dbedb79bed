"""FEEL built-ins: conversion, temporal, boolean, context and numeric functions (DMN 1.3 §10.3.4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from typing import Any

from . import ops
from .registry import builtin, integer, num, text
from .values import (
    YearsMonthsDuration,
    feel_string,
    parse_date,
    parse_date_time,
    parse_feel_duration,
    parse_time,
)

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


# ---------------------------------------------------------------- conversion
@builtin("date", ("from",), ("year", "month", "day"), foldable=True)
def _date(*args: Any) -> date | None:
    if len(args) == 3:
        return date(*(integer(a) for a in args))
    value = args[0]
    if isinstance(value, str):
        return parse_date(value)
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


@builtin("time", ("from",), ("hour", "minute", "second"), ("hour", "minute", "second", "offset"), foldable=True)
def _time(*args: Any) -> time | None:
    if len(args) >= 3:
        seconds = num(args[2])
        whole = int(seconds)
        micro = int((seconds - whole) * 1_000_000)
        zone = None
        if len(args) == 4 and args[3] is not None:
            if not isinstance(args[3], timedelta):
                return None
            zone = timezone(args[3])
        return time(integer(args[0]), integer(args[1]), whole, micro, tzinfo=zone)
    value = args[0]
    if isinstance(value, str):
        return parse_time(value)
    if isinstance(value, datetime):
        return value.timetz()
    if isinstance(value, date):
        return time(0, 0, tzinfo=UTC)
    return value if isinstance(value, time) else None


@builtin("date and time", ("from",), ("date", "time"), foldable=True)
def _date_and_time(*args: Any) -> datetime | None:
    if len(args) == 2:
        day, clock = args
        if not isinstance(day, date) or not isinstance(clock, time):
            return None
        if isinstance(day, datetime):
            day = day.date()
        return datetime.combine(day, clock)
    value = args[0]
    if isinstance(value, str):
        return parse_date_time(value)
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time()) if isinstance(value, date) else None


@builtin("duration", ("from",), foldable=True)
def _duration(value: Any) -> Any:
    return parse_feel_duration(text(value))


@builtin("years and months duration", ("from", "to"))
def _ym_between(start: Any, end: Any) -> YearsMonthsDuration | None:
    """Whole months from ``start`` to ``end``, like Java's ``Period.between`` without the days."""
    if not isinstance(start, date) or not isinstance(end, date):
        return None
    months = (end.year - start.year) * 12 + (end.month - start.month)
    start_rest = (start.day, start.timetz() if isinstance(start, datetime) else time())
    end_rest = (end.day, end.timetz() if isinstance(end, datetime) else time())
    if months > 0 and _before(end_rest, start_rest):
        months -= 1
    elif months < 0 and _before(start_rest, end_rest):
        months += 1
    return YearsMonthsDuration(months)


def _before(a: tuple[int, time], b: tuple[int, time]) -> bool:
    try:
        return a < b
    except TypeError:  # naive vs aware time of day: compare the day only
        return a[0] < b[0]


@builtin("number", ("from",), ("from", "grouping separator", "decimal separator"), foldable=True)
def _number(value: Any, grouping: Any = None, decimal_sep: Any = None) -> Decimal | None:
    raw = text(value).strip()
    if grouping is not None:
        if grouping not in (" ", ",", "."):
            return None
        raw = raw.replace(grouping, "")
    if decimal_sep is not None:
        if decimal_sep not in (".", ",") or decimal_sep == grouping:
            return None
        raw = raw.replace(decimal_sep, ".")
    if not raw or not all(c in "0123456789.-+eE" for c in raw):
        return None  # Decimal() would also accept "NaN" and "Infinity"
    return Decimal(raw)


@builtin("string", ("from",))
def _string(value: Any) -> str | None:
    return feel_string(value)


# ---------------------------------------------------------------- temporal
@builtin("today", (), needs_env=True)
def _today(env: Any) -> date:
    return env.clock.today()


@builtin("now", (), needs_env=True)
def _now(env: Any) -> datetime:
    clock = env.clock
    return clock.now().astimezone(clock.tz)


@builtin("day of week", ("date",))
def _day_of_week(value: Any) -> str | None:
    return _DAYS[value.weekday()] if isinstance(value, date) else None


@builtin("month of year", ("date",))
def _month_of_year(value: Any) -> str | None:
    return _MONTHS[value.month - 1] if isinstance(value, date) else None


@builtin("day of year", ("date",))
def _day_of_year(value: Any) -> Decimal | None:
    return Decimal(value.timetuple().tm_yday) if isinstance(value, date) else None


@builtin("week of year", ("date",))
def _week_of_year(value: Any) -> Decimal | None:
    return Decimal(value.isocalendar()[1]) if isinstance(value, date) else None


# ---------------------------------------------------------------- boolean and context
@builtin("not", ("negand",))
def _not(value: Any) -> bool | None:
    return ops.logical_not(value)


@builtin("is defined", ("value",))
def _is_defined(value: Any) -> bool:
    # Only reached for non-name arguments; the evaluator checks names and paths itself.
    return value is not None


@builtin("get value", ("m", "key"))
def _get_value(context: Any, key: Any) -> Any:
    return context.get(text(key)) if isinstance(context, dict) else None


@builtin("get entries", ("m",))
def _get_entries(context: Any) -> list[dict[str, Any]] | None:
    if not isinstance(context, dict):
        return None
    return [{"key": k, "value": v} for k, v in context.items()]


# ---------------------------------------------------------------- numeric
def _scaled(value: Any, scale: Any, rounding: str) -> Decimal:
    places = integer(scale)
    if not -6111 <= places <= 6176:
        raise ValueError("scale out of range")
    return num(value).quantize(Decimal(1).scaleb(-places), rounding=rounding, context=ops.DECIMAL128)


@builtin("decimal", ("n", "scale"))
def _decimal(value: Any, scale: Any) -> Decimal:
    return _scaled(value, scale, ROUND_HALF_EVEN)


@builtin("floor", ("n",), ("n", "scale"))
def _floor(value: Any, scale: Any = Decimal(0)) -> Decimal:
    return _scaled(value, scale, ROUND_FLOOR)


@builtin("ceiling", ("n",), ("n", "scale"))
def _ceiling(value: Any, scale: Any = Decimal(0)) -> Decimal:
    return _scaled(value, scale, ROUND_CEILING)


@builtin("round up", ("n", "scale"))
def _round_up(value: Any, scale: Any) -> Decimal:
    return _scaled(value, scale, ROUND_UP)


@builtin("round down", ("n", "scale"))
def _round_down(value: Any, scale: Any) -> Decimal:
    return _scaled(value, scale, ROUND_DOWN)


@builtin("round half up", ("n", "scale"))
def _round_half_up(value: Any, scale: Any) -> Decimal:
    return _scaled(value, scale, ROUND_HALF_UP)


@builtin("round half down", ("n", "scale"))
def _round_half_down(value: Any, scale: Any) -> Decimal:
    return _scaled(value, scale, ROUND_HALF_DOWN)


@builtin("abs", ("n",))
def _abs(value: Any) -> Any:
    if isinstance(value, Decimal):
        return abs(value)
    if isinstance(value, timedelta):
        return abs(value)
    if isinstance(value, YearsMonthsDuration):
        return YearsMonthsDuration(abs(value.months))
    return None


@builtin("modulo", ("dividend", "divisor"))
def _modulo(dividend: Any, divisor: Any) -> Decimal | None:
    a, b = num(dividend), num(divisor)
    if b.is_zero():
        return None
    # FEEL's modulo takes the sign of the divisor: modulo(-12, 5) = 3.
    quotient = ops.DECIMAL128.divide(a, b).to_integral_value(ROUND_FLOOR)
    return ops.DECIMAL128.subtract(a, ops.DECIMAL128.multiply(b, quotient))


@builtin("sqrt", ("number",))
def _sqrt(value: Any) -> Decimal | None:
    number = num(value)
    return None if number < 0 else number.sqrt(ops.DECIMAL128)


@builtin("log", ("number",))
def _log(value: Any) -> Decimal | None:
    number = num(value)
    return None if number <= 0 else number.ln(ops.DECIMAL128)


@builtin("exp", ("number",))
def _exp(value: Any) -> Decimal:
    return num(value).exp(ops.DECIMAL128)


@builtin("odd", ("number",))
def _odd(value: Any) -> bool:
    return integer(value) % 2 == 1


@builtin("even", ("number",))
def _even(value: Any) -> bool:
    return integer(value) % 2 == 0
