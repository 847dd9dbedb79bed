"""DMN ``typeRef`` names and the coercion of values to them.

Numbers become ``Decimal`` (ints, floats and numeric strings such as ``"4.0"``), ISO strings become
dates, date-times, times and durations, ``"true"``/``"false"`` become booleans. A value that cannot
be read as its type raises :class:`CoercionError`; callers turn it into an input or output error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

NUMBER = "number"
STRING = "string"
BOOLEAN = "boolean"
DATE = "date"
DATE_TIME = "dateTime"
TIME = "time"
DAY_TIME_DURATION = "dayTimeDuration"
YEAR_MONTH_DURATION = "yearMonthDuration"
DURATION = "duration"
ANY = "any"
LIST = "list"
CONTEXT = "context"

# typeRef spellings of FEEL/DMN 1.1-1.3 and of Camunda 7 (integer, long, double) -> canonical name
_ALIASES = {
    "string": STRING,
    "number": NUMBER,
    "integer": NUMBER,
    "int": NUMBER,
    "long": NUMBER,
    "double": NUMBER,
    "decimal": NUMBER,
    "float": NUMBER,
    "boolean": BOOLEAN,
    "date": DATE,
    "datetime": DATE_TIME,
    "date and time": DATE_TIME,
    "time": TIME,
    "daytimeduration": DAY_TIME_DURATION,
    "days and time duration": DAY_TIME_DURATION,
    "yearmonthduration": YEAR_MONTH_DURATION,
    "years and months duration": YEAR_MONTH_DURATION,
    "duration": DURATION,
    "any": ANY,
    "object": ANY,
    "list": LIST,
    "context": CONTEXT,
}

_NUMERIC = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


class CoercionError(ValueError):
    """A value that cannot be read as the requested type."""


def strip_prefix(type_ref: str) -> str:
    """``feel:number`` (a DMN 1.1 QName) -> ``number``."""
    text = type_ref.strip()
    if ":" in text and "//" not in text:
        text = text.split(":", 1)[1]
    return text


def canonical_type(type_ref: str | None, item_definitions: Mapping[str, str | None] | None = None) -> str | None:
    """The canonical type for a ``typeRef`` (None when empty); raises KeyError when unknown.

    ``item_definitions`` maps an ``itemDefinition`` name to its already canonical type.
    """
    if type_ref is None or not type_ref.strip():
        return None
    text = strip_prefix(type_ref)
    if item_definitions and text in item_definitions:
        return item_definitions[text]
    key = " ".join(text.lower().split())
    if key in _ALIASES:
        return _ALIASES[key]
    raise KeyError(type_ref)


def coerce(value: Any, type_name: str | None) -> Any:
    """``value`` as a FEEL value of ``type_name`` (None/'any' only converts Python to FEEL)."""
    from engine.feel import to_feel

    if value is None:
        return None
    value = to_feel(value)
    if type_name is None or type_name == ANY:
        return value
    converter = _CONVERTERS.get(type_name)
    if converter is None:  # pragma: no cover - canonical_type() guards the names
        return value
    return converter(value)


def describe(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    kind = {str: "string", bool: "boolean", Decimal: "number", list: "list", dict: "context"}.get(
        type(value), type(value).__name__
    )
    return f"{kind} {text}"


def _fail(value: Any, type_name: str) -> CoercionError:
    return CoercionError(f"expected a {type_name}, got {describe(value)}")


def _number(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(value, str) and _NUMERIC.match(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
            pass
    raise _fail(value, NUMBER)


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")
    if isinstance(value, date | time):
        return value.isoformat()
    raise _fail(value, STRING)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _fail(value, BOOLEAN)


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return _parse_datetime(text).date()
        except ValueError:
            pass
    raise _fail(value, DATE)


def _date_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, str):
        try:
            return _parse_datetime(value.strip())
        except ValueError:
            pass
    raise _fail(value, "date and time")


def _parse_datetime(text: str) -> datetime:
    if "@" in text:  # FEEL's 2025-01-01T10:00:00@Europe/Paris
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        local, zone = text.split("@", 1)
        try:
            return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone))
        except ZoneInfoNotFoundError:
            raise ValueError(text) from None
    return datetime.fromisoformat(text)


def _time(value: Any) -> time:
    if isinstance(value, datetime):
        return value.timetz()
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _fail(value, TIME)


def _day_time_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    converted = _iso_duration(value) if isinstance(value, str) else None
    if isinstance(converted, timedelta):
        return converted
    raise _fail(value, "days and time duration")


def _year_month_duration(value: Any) -> Any:
    from engine.feel import YearsMonthsDuration

    converted = _iso_duration(value) if isinstance(value, str) else value
    if isinstance(converted, YearsMonthsDuration):
        return converted
    raise _fail(value, "years and months duration")


def _duration(value: Any) -> Any:
    from engine.feel import YearsMonthsDuration

    converted = _iso_duration(value) if isinstance(value, str) else value
    if isinstance(converted, timedelta | YearsMonthsDuration):
        return converted
    raise _fail(value, DURATION)


def _iso_duration(text: str) -> Any:
    """An ISO-8601 duration string as FEEL's duration type (None if it is not one, or mixes
    months with days/time, which FEEL cannot represent)."""
    from engine.feel import to_feel
    from engine.isotime import parse_duration

    try:
        return to_feel(parse_duration(text.strip()))
    except ValueError:
        return None


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    raise _fail(value, LIST)


def _context(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise _fail(value, CONTEXT)


_CONVERTERS = {
    NUMBER: _number,
    STRING: _string,
    BOOLEAN: _boolean,
    DATE: _date,
    DATE_TIME: _date_time,
    TIME: _time,
    DAY_TIME_DURATION: _day_time_duration,
    YEAR_MONTH_DURATION: _year_month_duration,
    DURATION: _duration,
    LIST: _list,
    CONTEXT: _context,
}
