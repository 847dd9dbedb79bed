"""FEEL value types and conversions between Python values and FEEL values.

FEEL types map onto Python as follows (chosen so other engine code can use the values
without wrappers):

========================  ===========================================
number                    ``decimal.Decimal`` (never float: 0.1 + 0.2 = 0.3)
string / boolean / null   ``str`` / ``bool`` / ``None``
date                      ``datetime.date``
date and time             ``datetime.datetime`` (naive = local, aware = with offset/zone)
time                      ``datetime.time``
days and time duration    ``datetime.timedelta``
years and months duration :class:`YearsMonthsDuration`
list / context            ``list`` / ``dict`` with ``str`` keys
========================  ===========================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..isotime import IsoDuration, parse_duration


@dataclass(frozen=True, order=True)
class YearsMonthsDuration:
    """A FEEL ``years and months duration``: a whole number of months, possibly negative."""

    months: int

    @property
    def years(self) -> int:
        return int(self.months / 12)  # truncates toward zero: -P14M is -1 year, -2 months

    def __str__(self) -> str:
        total = abs(self.months)
        years, months = divmod(total, 12)
        body = (f"{years}Y" if years else "") + (f"{months}M" if months or not years else "")
        return ("-P" if self.months < 0 else "P") + body

    def __repr__(self) -> str:
        return f"YearsMonthsDuration({str(self)!r})"


# ---------------------------------------------------------------- kinds
NULL, NUMBER, STRING, BOOLEAN = "null", "number", "string", "boolean"
DATE, DATETIME, TIME, DTD, YMD = "date", "date and time", "time", "days and time duration", "years and months duration"
LIST, CONTEXT, FUNCTION, OTHER = "list", "context", "function", "other"

_KINDS: dict[type, str] = {
    type(None): NULL, Decimal: NUMBER, str: STRING, bool: BOOLEAN, date: DATE, datetime: DATETIME,
    time: TIME, timedelta: DTD, YearsMonthsDuration: YMD, list: LIST, dict: CONTEXT,
}


def kind(value: Any) -> str:
    """The FEEL type name of a FEEL value (exact-type lookup first: this is on the hot path)."""
    found = _KINDS.get(type(value))
    if found is not None:
        return found
    # Subclasses (e.g. a pendulum DateTime): order matters, datetime is a date and bool an int.
    for cls, name in ((bool, BOOLEAN), (datetime, DATETIME), (date, DATE), (time, TIME),
                      (timedelta, DTD), (Decimal, NUMBER), (str, STRING), (list, LIST), (dict, CONTEXT)):
        if isinstance(value, cls):
            return name
    return FUNCTION if callable(value) else OTHER


# ---------------------------------------------------------------- Python <-> FEEL
def to_feel(value: Any) -> Any:
    """Convert a Python value to a FEEL value: int/float become Decimal (via ``str`` so 0.1 stays 0.1),
    tuples/sets become lists, mappings become dicts; NaN and infinities become null."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value)) if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, date | time | timedelta | YearsMonthsDuration):
        return value
    if isinstance(value, IsoDuration):
        return _from_iso_duration(value)
    if isinstance(value, Mapping):
        return {str(k): to_feel(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_feel(v) for v in value]
    return value


def to_python(value: Any) -> Any:
    """Convert a FEEL value to plain Python: integral Decimals become int, durations ISO strings."""
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return int(value)
        return value
    if isinstance(value, YearsMonthsDuration | timedelta):
        return format_duration(value)
    if isinstance(value, dict):
        return {k: to_python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_python(v) for v in value]
    return value


# ---------------------------------------------------------------- temporal parsing
_DATE = re.compile(r"^(-?\d{4,9})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}(?::\d{2})?|@[\w/+\-]+)?$", re.I)


def parse_date(text: str) -> date | None:
    match = _DATE.match(text.strip())
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _zone(spec: str | None) -> Any:
    if not spec:
        return None
    if spec in ("Z", "z"):
        return UTC
    if spec.startswith("@"):
        try:
            return ZoneInfo(spec[1:])
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(spec) from None
    sign = -1 if spec[0] == "-" else 1
    parts = [int(p) for p in spec[1:].split(":")]
    offset = timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2] if len(parts) > 2 else 0)
    if offset >= timedelta(hours=18):
        raise ValueError(spec)
    return timezone(sign * offset)


def parse_time(text: str) -> time | None:
    match = _TIME.match(text.strip())
    if not match:
        return None
    try:
        micro = int((match[4] or "0")[:6].ljust(6, "0"))
        return time(int(match[1]), int(match[2]), int(match[3] or 0), micro, tzinfo=_zone(match[5]))
    except ValueError:
        return None


def parse_date_time(text: str) -> datetime | None:
    """``2026-01-01T09:00:00Z``, ``...+02:00``, ``...@Europe/Paris``, local ``...T09:00``; a bare
    date means midnight (local)."""
    raw = text.strip()
    head, sep, tail = raw.partition("T")
    if not sep:
        head, sep, tail = raw.partition("t")
    day = parse_date(head)
    if day is None:
        return None
    if not sep:
        return datetime.combine(day, time())
    clock = parse_time(tail)
    if clock is None:
        return None
    moment = datetime.combine(day, clock.replace(tzinfo=None))
    return moment.replace(tzinfo=clock.tzinfo) if clock.tzinfo is not None else moment


def _from_iso_duration(iso: IsoDuration) -> YearsMonthsDuration | timedelta | None:
    sign = -1 if iso.negative else 1
    has_months = bool(iso.total_months)
    has_days = bool(iso.total_days) or bool(iso.time_part())
    if has_months and has_days:
        return None  # FEEL has no mixed duration type
    if has_months:
        return YearsMonthsDuration(sign * iso.total_months)
    return sign * (timedelta(days=iso.total_days) + iso.time_part())


def parse_feel_duration(text: str) -> YearsMonthsDuration | timedelta | None:
    """``P3M``/``P1Y2M`` -> years-and-months; ``P6W``/``P2DT3H``/``PT0.5S`` -> timedelta; else None."""
    try:
        iso = parse_duration(text)
    except ValueError:
        return None
    if iso.total_months and (iso.total_days or iso.time_part()):
        return None
    if iso.total_months or (not iso.total_days and not iso.time_part() and _looks_ym(text)):
        return YearsMonthsDuration((-1 if iso.negative else 1) * iso.total_months)
    return _from_iso_duration(iso)


def _looks_ym(text: str) -> bool:
    # "P0Y"/"P0M" are zero years-and-months durations; "PT0S"/"P0D" are zero days-and-time ones.
    body = text.strip().upper().lstrip("+-")
    return "T" not in body and body.endswith(("Y", "M"))


# ---------------------------------------------------------------- formatting
def format_duration(value: YearsMonthsDuration | timedelta) -> str:
    if isinstance(value, YearsMonthsDuration):
        return str(value)
    micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    sign, micros = ("-" if micros < 0 else ""), abs(micros)
    seconds, micro = divmod(micros, 1_000_000)
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    days, hrs = divmod(hours, 24)
    out = f"{sign}P" + (f"{days}D" if days else "")
    clock = (f"{hrs}H" if hrs else "") + (f"{mins}M" if mins else "")
    if secs or micro:
        clock += (f"{secs}.{micro:06d}".rstrip("0") if micro else str(secs)) + "S"
    if clock:
        out += "T" + clock
    return out if out not in ("P", "-P") else "PT0S"


def format_number(value: Decimal) -> str:
    """Plain notation without exponent or trailing zeros: 1.50 -> "1.5", 1E+2 -> "100"."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def feel_string(value: Any) -> str | None:
    """FEEL ``string(x)``: the text form of any value; null stays null."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, YearsMonthsDuration | timedelta):
        return format_duration(value)
    if isinstance(value, datetime | date | time):
        return format_temporal(value)
    if isinstance(value, list):
        return "[" + ", ".join(_nested_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}:{_nested_string(v)}" for k, v in value.items()) + "}"
    return str(value)


def _nested_string(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return feel_string(value) or "null"


def format_temporal(value: date | time) -> str:
    """ISO text; zone-region values keep their ``@Zone`` suffix the way FEEL prints them."""
    zone = getattr(value, "tzinfo", None)
    if isinstance(zone, ZoneInfo):
        return value.replace(tzinfo=None).isoformat() + "@" + zone.key
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
