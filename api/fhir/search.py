"""Reading FHIR search parameters: unknown ones refused, tokens, dates with prefixes, page size,
and the next-page link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from flask import request

from . import FhirError

FORMATS = {"json", "application/json", "application/fhir+json"}
MAX_COUNT = 200


def check_params(allowed: set[str]) -> None:
    """Unknown search parameters and formats are refused (as the JSON API refuses them)."""
    for name in request.args:
        if name not in allowed:
            raise FhirError(400, f"unknown search parameter '{name}'; supported: {', '.join(sorted(allowed))}",
                            code="not-supported", expression=[name])
    wanted = request.args.get("_format")
    if wanted is not None and wanted not in FORMATS:
        raise FhirError(406, f"_format '{wanted}' is not supported: only JSON", code="not-supported",
                        expression=["_format"])


def token(name: str, system: str) -> str | None:
    """``system|value`` or ``value``; another system matches nothing we have (an error here)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    given_system, bar, value = raw.rpartition("|")
    if bar and given_system and given_system != system:
        raise FhirError(400, f"{name}: unknown system '{given_system}' (use {system})", expression=[name])
    if not value:
        raise FhirError(400, f"{name}: no value", expression=[name])
    return value


def count() -> int:
    raw = request.args.get("_count", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise FhirError(400, f"_count: a whole number from 1 to {MAX_COUNT}", expression=["_count"])
    return int(raw)


def period(value: str, name: str = "period") -> dict[str, datetime]:
    """``le…``/``lt…``/``ge…``/``gt…`` a date or date-time; a date covers its whole day (UTC)."""
    prefix, raw = value[:2], value[2:].replace(" ", "+")  # an unencoded "+00:00" arrives as " 00:00"
    if prefix not in ("le", "lt", "ge", "gt"):
        raise FhirError(400, f"{name}: give a prefix le, lt, ge or gt and a date or date-time", expression=[name])
    try:
        instant = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FhirError(400, f"{name}: '{raw}' is not a date or date-time", expression=[name]) from exc
    whole_day = len(raw) == 10
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    tick = timedelta(microseconds=1)
    if prefix in ("le", "gt"):  # the service's bounds are strict: due < before, due > after
        end = instant + timedelta(days=1) if whole_day else instant + tick
        return {"due_before": end} if prefix == "le" else {"due_after": end - tick}
    return {"due_before": instant} if prefix == "lt" else {"due_after": instant - tick}


def next_link(cursor: str | None) -> str | None:
    """This search's URL for the page after ``cursor`` (None: this is the last page)."""
    if not cursor:
        return None
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "_cursor"]
    return f"{request.base_url}?{urlencode([*args, ('_cursor', cursor)])}"
