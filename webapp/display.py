"""How the pages write times: in the site's time zone, a date alone where the time is midnight
(a due *date*), day month year (never the US/ISO ambiguity), minutes not seconds."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.clock import site_timezone


def _local(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(site_timezone()) if moment.tzinfo else moment


def when(value: str | datetime | None) -> str:
    """``6 Jan 2026`` for a midnight (a due date), else ``6 Jan 2026 09:00``, site time."""
    moment = _local(value)
    if moment is None:
        return "—"
    text = f"{moment.day} {moment:%b %Y}"
    return text if (moment.hour, moment.minute) == (0, 0) else f"{text} {moment:%H:%M}"


def day(value: str | date | None) -> str:
    """A calendar date, ``6 Jan 2026``."""
    if value is None or value == "":
        return "—"
    found = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return f"{found.day} {found:%b %Y}"


def iso_local(value: str | datetime | None) -> str:
    """The machine-readable form for ``<time datetime=...>``."""
    moment = _local(value)
    return moment.isoformat(timespec="minutes") if moment else ""


_NUMBER = re.compile(r"-?\d+\.\d{3,}")


def answer(value: Any) -> str:
    """A recorded or decided value in words: Yes/No, a dash for nothing, numbers to two decimals,
    a record as "name: value" pairs."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float | Decimal) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        try:
            number = Decimal(str(value)).quantize(Decimal("0.01"))
        except InvalidOperation:
            return str(value)
        return format(number.normalize(), "f")
    if isinstance(value, dict):
        return "; ".join(f"{k}: {answer(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(answer(v) for v in value) or "none"
    return str(value)
