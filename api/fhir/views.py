"""The FHIR routes: metadata, Patient and Task read and search (search results page with links)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as metadata_version
from typing import Any
from urllib.parse import urlencode

from flask import Response, request

from engine.service import NotFound

from ..auth import READERS, roles
from ..state import service
from . import FhirError, bp, fhir_response
from .resources import (
    GROUP_SYSTEM,
    MRN_SYSTEM,
    USER_SYSTEM,
    capability_statement,
    patient_resource,
    search_bundle,
    task_resource,
)

FORMATS = {"json", "application/json", "application/fhir+json"}
TASK_PARAMS = {"status", "patient", "owner", "performer", "period", "_sort", "_count", "_cursor", "_format",
               "_lastUpdated", "_summary"}
PATIENT_PARAMS = {"identifier", "name", "birthdate", "_count", "_cursor", "_format"}
STATUSES = {"ready": ("ready", False), "in-progress": ("ready", True), "completed": ("completed", None),
            "cancelled": ("cancelled", None)}
MAX_COUNT = 200


def _check(allowed: set[str]) -> None:
    """Unknown search parameters and formats are refused (as the JSON API refuses them)."""
    for name in request.args:
        if name not in allowed:
            raise FhirError(400, f"unknown search parameter '{name}'; supported: {', '.join(sorted(allowed))}",
                            code="not-supported", expression=[name])
    wanted = request.args.get("_format")
    if wanted is not None and wanted not in FORMATS:
        raise FhirError(406, f"_format '{wanted}' is not supported: only JSON", code="not-supported",
                        expression=["_format"])


def _token(name: str, system: str) -> str | None:
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


@bp.get("/metadata")
def metadata() -> Response:
    """The CapabilityStatement (public, as FHIR clients read it before authenticating)."""
    _check({"_format", "mode"})
    return fhir_response(capability_statement(service().ctx.now().date().isoformat(), _version()))


def _version() -> str:
    try:
        return metadata_version("ovcf-pathway")
    except PackageNotFoundError:
        return "0"


@bp.get("/Patient/<patient_id>")
@roles(READERS)
def patient_read(patient_id: str) -> Response:
    _check({"_format"})
    try:
        return fhir_response(patient_resource(service().patient(patient_id=patient_id)))
    except NotFound as exc:
        raise FhirError(404, f"Patient/{patient_id} is not known") from exc


@bp.get("/Patient")
@roles(READERS)
def patient_search() -> Response:
    """By ``identifier`` (system|value or value), ``name`` (any part) and ``birthdate``, a page at
    a time in identifier order."""
    _check(PATIENT_PARAMS)
    svc = service()
    value = _token("identifier", MRN_SYSTEM)
    name, born = request.args.get("name"), request.args.get("birthdate")
    if value is None and not name and born is None:
        raise FhirError(400, "search Patient by identifier, name or birthdate", code="required",
                        expression=["identifier"])
    birth_date = None
    if born is not None:
        try:
            birth_date = date.fromisoformat(born.removeprefix("eq"))
        except ValueError as exc:
            raise FhirError(400, f"birthdate: '{born}' is not a date (YYYY-MM-DD)", expression=["birthdate"]) from exc
    if value is not None:
        try:
            found = [svc.patient(external_id=value)]
        except NotFound:
            found = []
        found = [p for p in found if (not name or name.lower() in (p.get("displayName") or "").lower())
                 and (birth_date is None or p.get("birthDate") == birth_date.isoformat())]
        return fhir_response(search_bundle([patient_resource(p) for p in found], request.url, None))
    page = svc.patients(name=name, birth_date=birth_date, limit=_count(), after=request.args.get("_cursor"))
    next_url = None
    if page["next"]:
        args = {k: v for k, v in request.args.items(multi=True) if k != "_cursor"}
        next_url = f"{request.base_url}?{urlencode([*args.items(), ('_cursor', page['next'])])}"
    return fhir_response(search_bundle([patient_resource(p) for p in page["items"]], request.url, next_url))


@bp.get("/Task/<task_id>")
@roles(READERS)
def task_read(task_id: str) -> Response:
    _check({"_format"})
    try:
        task = service().task(task_id)
    except NotFound as exc:
        raise FhirError(404, f"Task/{task_id} is not known") from exc
    return fhir_response(task_resource(task), headers={"ETag": f'W/"{task["etag"]}"'})


@bp.get("/Task")
@roles(READERS)
def task_search() -> Response:
    _check(TASK_PARAMS)
    criteria: dict[str, Any] = {"status": None}
    status = request.args.get("status")
    if status is not None:
        if status not in STATUSES:
            raise FhirError(400, f"status '{status}' is not one of {', '.join(STATUSES)}", expression=["status"])
        criteria["status"], criteria["claimed"] = STATUSES[status]
    patient = request.args.get("patient")
    if patient is not None:
        criteria["patient_id"] = patient.removeprefix("Patient/")
    owner = _token("owner", USER_SYSTEM)
    if owner is not None:
        criteria["assignee"] = owner
    group = _token("performer", GROUP_SYSTEM)
    if group is not None:
        criteria["candidate_group"] = group
    for value in request.args.getlist("period"):
        criteria.update(_period(value))
    for value in request.args.getlist("_lastUpdated"):
        bound = _period(value, "_lastUpdated")
        if "due_after" not in bound:
            raise FhirError(400, "_lastUpdated: gt or ge (changed since)", expression=["_lastUpdated"])
        criteria["updated_after"] = bound["due_after"]
    sort = request.args.get("_sort", "period")
    if sort not in ("period", "-priority"):
        raise FhirError(400, "_sort: period (due soonest first) or -priority", expression=["_sort"])
    criteria["order"] = "due" if sort == "period" else "priority"
    criteria["limit"] = _count()
    criteria["cursor"] = request.args.get("_cursor")
    summary = request.args.get("_summary")
    if summary is not None:
        if summary != "count":
            raise FhirError(400, "_summary: only count is supported", code="not-supported", expression=["_summary"])
        total = service().tasks(**criteria, count_only=True)["total"]
        return fhir_response({"resourceType": "Bundle", "type": "searchset", "total": total,
                              "link": [{"relation": "self", "url": request.url}]})
    page = service().tasks(**criteria)
    next_url = None
    if page["nextCursor"]:
        args = {k: v for k, v in request.args.items(multi=True) if k != "_cursor"}
        next_url = f"{request.base_url}?{urlencode([*args.items(), ('_cursor', page['nextCursor'])])}"
    return fhir_response(search_bundle([task_resource(t) for t in page["items"]], request.url, next_url))


def _count() -> int:
    raw = request.args.get("_count", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise FhirError(400, f"_count: a whole number from 1 to {MAX_COUNT}", expression=["_count"])
    return int(raw)


def _period(value: str, name: str = "period") -> dict[str, datetime]:
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


@bp.route("/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unsupported(unknown: str) -> Response:
    """Anything else: an OperationOutcome naming what is supported (see /fhir/metadata)."""
    raise FhirError(404, f"'{unknown}' is not supported here: Patient and Task (read, search); see /fhir/metadata",
                    code="not-supported")
