"""FEEL operator semantics on values: equality, ordering, arithmetic (DMN 1.3 §10.3.2).

Every function here returns null (``None``) for a type mismatch instead of raising, as
DMN requires: ``"a" + 1`` is null and ``"a" < 1`` is null. Numbers use decimal128
arithmetic (34 significant digits, half-even), the precision FEEL specifies.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Any

from ..isotime import add_months
from .values import CONTEXT, DATE, DATETIME, DTD, LIST, NUMBER, STRING, TIME, YMD, YearsMonthsDuration, kind

DECIMAL128 = Context(prec=34, rounding=ROUND_HALF_EVEN, Emax=6144, Emin=-6143,
                     traps=[InvalidOperation, DivisionByZero, Overflow])
_ORDERED = frozenset({NUMBER, STRING, DATE, DATETIME, TIME, DTD, YMD})
_UTC = UTC
_EPOCH = date(2000, 1, 1)  # anchor day for time-of-day arithmetic


def _aware(value: datetime | time) -> bool:
    return value.tzinfo is not None


# ---------------------------------------------------------------- equality and order
def equal(a: Any, b: Any) -> bool | None:
    """FEEL ``=``: null equals only null; different types give null; lists/contexts deeply."""
    if a is None or b is None:
        return a is None and b is None
    ka, kb = kind(a), kind(b)
    if ka != kb:
        return None
    if ka == LIST:
        if len(a) != len(b):
            return False
        return all3(equal(x, y) for x, y in zip(a, b, strict=True))
    if ka == CONTEXT:
        if a.keys() != b.keys():
            return False
        return all3(equal(a[k], b[k]) for k in a)
    if ka in (DATETIME, TIME) and _aware(a) != _aware(b):
        return None  # a local date-time is not comparable with one that has an offset
    try:
        return bool(a == b)
    except TypeError:
        return None


def all3(results) -> bool | None:
    unknown = False
    for result in results:
        if result is False:
            return False
        if result is None:
            unknown = True
    return None if unknown else True


def and3(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return True if (a is True and b is True) else None


def any3(results: list[bool | None]) -> bool | None:
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) else False


def compare(a: Any, b: Any) -> int | None:
    """-1/0/1 for comparable values of one ordered type, else None (null)."""
    if a is None or b is None:
        return None
    ka = kind(a)
    if ka != kind(b) or ka not in _ORDERED:
        return None
    if ka in (DATETIME, TIME) and _aware(a) != _aware(b):
        return None
    try:
        return -1 if a < b else (1 if a > b else 0)
    except TypeError:
        return None


def less(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c < 0


def less_equal(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c <= 0


def greater(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c > 0


def greater_equal(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c >= 0


def not_equal(a: Any, b: Any) -> bool | None:
    r = equal(a, b)
    return None if r is None else not r


def logical_not(a: Any) -> bool | None:
    return (not a) if isinstance(a, bool) else None


def as_bool(a: Any) -> bool | None:
    """Only real booleans take part in three-valued logic; anything else counts as null."""
    return a if isinstance(a, bool) else None


# ---------------------------------------------------------------- temporal helpers
def _at_midnight(day: date, like: datetime | None) -> datetime:
    # DMN reads a date as midnight UTC when it meets a date-time; a local date-time gets a local midnight.
    zone = _UTC if like is not None and like.tzinfo is not None else None
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _plus_exact(moment: datetime, delta: timedelta) -> datetime:
    """Days-and-time durations are exact elapsed time, so cross DST on the absolute time line."""
    if moment.tzinfo is None:
        return moment + delta
    return (moment.astimezone(_UTC) + delta).astimezone(moment.tzinfo)


def _date_plus(day: date, delta: timedelta) -> date | datetime:
    if delta % timedelta(days=1) == timedelta(0):
        return day + delta  # whole days keep the date type
    return datetime.combine(day, time()) + delta


def _time_plus(clock: time, delta: timedelta) -> time:
    moment = datetime.combine(_EPOCH, clock.replace(tzinfo=None)) + delta
    return moment.time().replace(tzinfo=clock.tzinfo)


def _time_minus(a: time, b: time) -> timedelta | None:
    if _aware(a) != _aware(b):
        return None
    left = datetime.combine(_EPOCH, a)
    right = datetime.combine(_EPOCH, b)
    return left - right


def _micros(delta: timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _scale_duration(duration: Any, factor: Decimal) -> Any:
    if isinstance(duration, YearsMonthsDuration):
        return YearsMonthsDuration(int(DECIMAL128.multiply(Decimal(duration.months), factor)))
    micros = DECIMAL128.multiply(Decimal(_micros(duration)), factor)
    return timedelta(microseconds=int(micros.to_integral_value(ROUND_HALF_EVEN)))


# ---------------------------------------------------------------- arithmetic
def add(a: Any, b: Any) -> Any:
    ka, kb = kind(a), kind(b)
    try:
        if ka == NUMBER and kb == NUMBER:
            return DECIMAL128.add(a, b)
        if ka == STRING and kb == STRING:
            return a + b
        if ka in (DTD, YMD) and kb in (DATE, DATETIME, TIME):
            a, b, ka, kb = b, a, kb, ka  # duration + date is date + duration
        if kb == YMD:
            if ka == YMD:
                return YearsMonthsDuration(a.months + b.months)
            if ka in (DATE, DATETIME):
                return add_months(a, b.months)
        elif kb == DTD:
            if ka == DTD:
                return a + b
            if ka == DATETIME:
                return _plus_exact(a, b)
            if ka == DATE:
                return _date_plus(a, b)
            if ka == TIME:
                return _time_plus(a, b)
    except (ArithmeticError, OverflowError, ValueError):
        return None
    return None


def subtract(a: Any, b: Any) -> Any:
    ka, kb = kind(a), kind(b)
    try:
        if ka == NUMBER and kb == NUMBER:
            return DECIMAL128.subtract(a, b)
        if ka in (DATE, DATETIME) and kb in (DATE, DATETIME):
            if ka == DATE and kb == DATE:
                return timedelta(days=(a - b).days)
            left = a if ka == DATETIME else _at_midnight(a, b)
            right = b if kb == DATETIME else _at_midnight(b, a)
            if _aware(left) != _aware(right):
                return None
            return left - right
        if ka == TIME and kb == TIME:
            return _time_minus(a, b)
        if kb == YMD:
            if ka == YMD:
                return YearsMonthsDuration(a.months - b.months)
            if ka in (DATE, DATETIME):
                return add_months(a, -b.months)
        elif kb == DTD:
            if ka == DTD:
                return a - b
            if ka == DATETIME:
                return _plus_exact(a, -b)
            if ka == DATE:
                return _date_plus(a, -b)
            if ka == TIME:
                return _time_plus(a, -b)
    except (ArithmeticError, OverflowError, ValueError):
        return None
    return None


def multiply(a: Any, b: Any) -> Any:
    ka, kb = kind(a), kind(b)
    try:
        if ka == NUMBER and kb == NUMBER:
            return DECIMAL128.multiply(a, b)
        if ka == NUMBER and kb in (DTD, YMD):
            return _scale_duration(b, a)
        if kb == NUMBER and ka in (DTD, YMD):
            return _scale_duration(a, b)
    except (ArithmeticError, OverflowError, ValueError):
        return None
    return None


def divide(a: Any, b: Any) -> Any:
    ka, kb = kind(a), kind(b)
    try:
        if kb == NUMBER and b.is_zero():
            return None  # DMN: division by zero is null
        if ka == NUMBER and kb == NUMBER:
            return DECIMAL128.divide(a, b)
        if ka in (DTD, YMD) and kb == NUMBER:
            return _scale_duration(a, DECIMAL128.divide(Decimal(1), b))
        if ka == DTD and kb == DTD:
            return None if not b else DECIMAL128.divide(Decimal(_micros(a)), Decimal(_micros(b)))
        if ka == YMD and kb == YMD:
            return None if not b.months else DECIMAL128.divide(Decimal(a.months), Decimal(b.months))
    except (ArithmeticError, OverflowError, ValueError):
        return None
    return None


def power(a: Any, b: Any) -> Any:
    if kind(a) != NUMBER or kind(b) != NUMBER:
        return None
    try:
        result = DECIMAL128.power(a, b)
        return result if result.is_finite() else None  # 0 ** -1 is Infinity: not a FEEL number
    except (ArithmeticError, OverflowError, ValueError):
        return None


def negate(a: Any) -> Any:
    k = kind(a)
    if k == NUMBER:
        return DECIMAL128.minus(a)
    if k == DTD:
        return -a
    if k == YMD:
        return YearsMonthsDuration(-a.months)
    return None

