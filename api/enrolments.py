"""Bulk enrolment over HTTP: a CSV or NDJSON body, each row a patient enrolled on a pathway in one
transaction, or refused with its reason (``engine.bulk``; ``pathway enrol --from`` is the same
for files larger than a request)."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, request

from engine.bulk import enrol_rows, parse_rows

from .auth import WORKERS, actor
from .openapi import endpoint
from .problems import ApiProblem
from .schemas import EnrolmentQuery, EnrolmentReport
from .state import service

bp = Blueprint("enrolments", __name__, url_prefix="/api/enrolments")
TYPES = {"text/csv": True, "application/x-ndjson": False, "application/ndjson": False}


@bp.post("")
@endpoint(roles=WORKERS, tags=("patients",), query=EnrolmentQuery, ok={"HTTP_200": EnrolmentReport},
          errors=(400, 404, 413, 415))
def enrol(query: EnrolmentQuery) -> dict[str, Any]:
    """Enrol many patients: a ``text/csv`` body (header with ``externalId``; ``displayName``,
    ``birthDate``, ``sex``, ``businessKey``; other columns are start variables) or an
    ``application/x-ndjson`` body (one object per line). Each row is enrolled or refused on its own;
    the answer lists every refused row with its line and reason."""
    kind = (request.mimetype or "").lower()
    if kind not in TYPES:
        raise ApiProblem(415, "send the rows as text/csv or application/x-ndjson", kind="unsupported-media-type")
    try:
        text = request.get_data().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiProblem(400, f"the body is not UTF-8 text ({exc.reason})", kind="bad-body") from exc
    try:
        report = enrol_rows(service(), parse_rows(io.StringIO(text, newline=""), is_csv=TYPES[kind]),
                            query.definition, actor=actor(), version=query.version)
    except ValueError as exc:  # a CSV without its header
        raise ApiProblem(400, str(exc), kind="bad-body") from exc
    return {"rows": report.rows, "enrolled": report.enrolled,
            "refused": [{"line": r.line, "externalId": r.external_id, "reason": r.reason} for r in report.refused]}
