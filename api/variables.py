"""Process variables from JSON: ISO dates and date-times become typed values.

JSON has no date type, yet due dates and timers compute with dates (``fractureDate +
duration("P4W")``): a string that is exactly ``YYYY-MM-DD`` becomes a date and one that is a
full ISO date-time with an offset becomes an aware date-time. Everything else is kept as sent.
Camunda's typed values (``{"value": ..., "type": "Date"}``) are converted by :func:`from_camunda`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from .problems import ApiProblem

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$")


def typed(value: Any) -> Any:
    if isinstance(value, str):
        try:
            if _DATE.match(value):
                return date.fromisoformat(value)
            if _DATETIME.match(value):
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return value
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return value


def typed_variables(variables: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if variables is None else {name: typed(value) for name, value in variables.items()}


def _bad(name: str, message: str) -> ApiProblem:
    return ApiProblem(400, f"Cannot convert value of variable '{name}': {message}", kind="InvalidRequestException",
                      errors=[{"field": f"variables.{name}", "code": "type", "message": message}])


def _camunda_date(name: str, raw: Any) -> date | datetime:
    if not isinstance(raw, str):
        raise _bad(name, "a Date must be a string such as 2026-01-01T00:00:00.000+0000")
    text = raw.strip()
    try:
        if _DATE.match(text):  # shaped like a date, yet maybe no such day (2000-02-30)
            return date.fromisoformat(text)
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(name, f"'{raw}' is not a date") from None
    if instant.tzinfo is not None and (instant.hour, instant.minute, instant.second, instant.microsecond) == (0, 0, 0, 0):
        return instant.date()
    return instant


def _number(name: str, raw: Any, kind: str) -> int | float:
    if isinstance(raw, bool):
        raise _bad(name, f"{kind} needs a number")
    try:
        if kind in ("Integer", "Long", "Short"):
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            return int(raw)
        return float(raw)
    except (TypeError, ValueError):
        raise _bad(name, f"'{raw}' is not a valid {kind}") from None


def from_camunda(name: str, typed_value: Any) -> Any:
    """One Camunda REST typed value ``{value, type, valueInfo}`` as a Python value."""
    if not isinstance(typed_value, dict) or "value" not in typed_value:
        raise _bad(name, "expected an object {value, type}")
    raw = typed_value.get("value")
    kind = str(typed_value.get("type") or "").strip()
    kind = kind[:1].upper() + kind[1:]
    if raw is None or kind in ("Null",):
        return None
    if kind == "Date":
        return _camunda_date(name, raw)
    if kind in ("Integer", "Long", "Short", "Double"):
        return _number(name, raw, kind)
    if kind == "Boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise _bad(name, f"'{raw}' is not a Boolean")
    if kind in ("String", ""):
        return raw if kind == "String" else typed(raw)
    if kind == "Json":
        import json

        if not isinstance(raw, str):
            return raw
        try:
            return json.loads(raw)
        except ValueError:
            raise _bad(name, "the Json value does not parse") from None
    raise _bad(name, f"type '{kind}' is not supported (use String, Integer, Long, Double, Boolean, Date or Json)")


def camunda_variables(variables: Any) -> dict[str, Any]:
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise ApiProblem(400, "'variables' must be an object of {name: {value, type}}", kind="InvalidRequestException")
    return {str(name): from_camunda(str(name), value) for name, value in variables.items()}
