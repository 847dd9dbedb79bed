"""Bulk enrolment: a service taking over an existing population enrols it from a file, row by
row, each row all or nothing (patient and pathway in one transaction), with a report of every
refused row and why.

Files: CSV with a header (``externalId`` required; ``displayName``, ``birthDate``, ``sex``,
``businessKey`` optional; every other column is a start variable, typed by the pathway's start
form: yes/no as true/false, numbers, dates as YYYY-MM-DD, an empty cell is no answer), or NDJSON
(one JSON object per line: the same keys, start variables either as other keys or under
``"variables"``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .service import Service

IDENTITY = ("externalId", "displayName", "birthDate", "sex", "businessKey")
_YES, _NO = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}


@dataclass
class Refused:
    line: int
    external_id: str | None
    reason: str


@dataclass
class BulkReport:
    rows: int = 0
    enrolled: int = 0
    refused: list[Refused] = field(default_factory=list)


def count_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig") as handle:
        lines = sum(1 for line in handle if line.strip())
    return max(0, lines - 1) if path.suffix.lower() == ".csv" else lines


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, the row) per data row of a file; ``.csv`` by its name, else NDJSON."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from parse_rows(handle, is_csv=path.suffix.lower() == ".csv")


def parse_rows(lines: Iterable[str], *, is_csv: bool) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, the row) per data row; a row that cannot be read is its error text."""
    if is_csv:
        reader = csv.DictReader(lines)
        if not reader.fieldnames or "externalId" not in reader.fieldnames:
            raise ValueError("the CSV header must name an externalId column")
        for row in reader:
            if None in row:
                yield reader.line_num, "more cells than the header names"
            else:
                yield reader.line_num, {k: v for k, v in row.items() if v not in ("", None)}
        return
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"not JSON: {exc.msg}"
            continue
        yield number, row if isinstance(row, dict) else "not a JSON object"


def typed(form: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, Any]:
    """CSV text as the start form's types (anything else passes through for validation to name)."""
    kinds = {f["id"]: f.get("type") for f in (form or {}).get("fields", [])}
    found: dict[str, Any] = {}
    for name, value in values.items():
        kind = kinds.get(name)
        if not isinstance(value, str):
            found[name] = value
        elif kind == "boolean" and value.strip().lower() in _YES | _NO:
            found[name] = value.strip().lower() in _YES
        elif kind == "long" and value.strip().lstrip("+-").isdigit():
            found[name] = int(value)
        else:
            found[name] = value.strip()
    return found


def enrol_file(service: Service, path: Path, definition: str, *, actor: str, version: int | None = None,
               progress: Callable[[int], None] | None = None) -> BulkReport:
    return enrol_rows(service, read_rows(path), definition, actor=actor, version=version, progress=progress)


BATCH = 100  # rows per transaction (each row its own savepoint)


def enrol_rows(service: Service, rows: Iterable[tuple[int, dict[str, Any] | str]], definition: str, *, actor: str,
               version: int | None = None, progress: Callable[[int], None] | None = None) -> BulkReport:
    form = service.start_form(definition, version)  # NotFound before any row: no such pathway
    report = BulkReport()
    batch: list[tuple[int, str, dict[str, Any]]] = []

    def flush() -> None:
        results = service.enrol_new_patients([r for _, _, r in batch], definition, actor=actor, version=version)
        for (line, external, _), result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                report.refused.append(Refused(line, external, _reason(result)))
            else:
                report.enrolled += 1
        if progress:
            progress(len(batch))
        batch.clear()

    for line, row in rows:
        report.rows += 1
        external = row.get("externalId") if isinstance(row, dict) else None
        try:
            if isinstance(row, str):
                raise ValueError(row)
            batch.append((line, external, _prepared(row, form)))
        except (ValueError, TypeError) as exc:
            report.refused.append(Refused(line, external if isinstance(external, str) else None, _reason(exc)))
            if progress:
                progress(1)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    report.refused.sort(key=lambda r: r.line)
    return report


def _prepared(row: dict[str, Any], form: dict[str, Any] | None) -> dict[str, Any]:
    """A row as the service takes it, or ValueError naming what is wrong with its identity."""
    external = row.get("externalId")
    if not isinstance(external, str) or not external.strip() or len(external) > 255:
        raise ValueError("externalId is missing (1 to 255 characters)")
    nested = row.get("variables")
    if nested is not None and not isinstance(nested, dict):
        raise ValueError("variables must be an object")
    variables = nested if nested is not None else {k: v for k, v in row.items() if k not in IDENTITY}
    birth = row.get("birthDate")
    try:
        birth_date = date.fromisoformat(birth) if birth else None
    except (TypeError, ValueError):
        raise ValueError(f"birthDate '{birth}' is not a date (YYYY-MM-DD)") from None
    return {"external_id": external.strip(), "display_name": row.get("displayName"), "birth_date": birth_date,
            "sex": row.get("sex"), "variables": typed(form, variables), "business_key": row.get("businessKey")}


def _reason(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        return "; ".join(f"{e.field}: {e.message}" for e in errors)
    return str(exc)


def write_refused(report: BulkReport, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "externalId", "reason"])
        for item in report.refused:
            writer.writerow([item.line, item.external_id or "", item.reason])
