"""FEEL values as JSON-friendly Python, and a JSON dump that writes Decimals as numbers."""

from __future__ import annotations

import json
from datetime import date, time
from decimal import Decimal
from typing import Any


def json_friendly(value: Any) -> Any:
    """``to_python`` (integral Decimal -> int, durations -> ISO strings) plus dates/times -> ISO strings.

    Non-integral numbers stay ``Decimal`` so no precision is lost; :func:`dumps` writes them as
    JSON numbers.
    """
    from engine.feel import to_python

    return _iso_dates(to_python(value))


def _iso_dates(value: Any) -> Any:
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _iso_dates(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_iso_dates(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Compact JSON where ``Decimal`` is a number (``3.5``, not ``"3.5"``) and dates are ISO strings."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date | time):
        return json.dumps(value.isoformat())
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(dumps(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _number(value: Decimal) -> str:
    if not value.is_finite():
        return "null"
    if value == value.to_integral_value():
        return str(int(value))
    text = format(value.normalize(), "f")
    return text
