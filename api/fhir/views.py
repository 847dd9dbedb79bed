"""The FHIR read routes: metadata, Patient and Task read and search (pages with links), CarePlan
read, Provenance search."""

from __future__ import annotations

import functools
from datetime import date
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as metadata_version
from typing import Any

from flask import Response, request

from engine.service import NotFound

from ..auth import READERS, roles
from ..state import service
from . import FhirError, bp, etag, fhir_response
from .resources import (
    GROUP_SYSTEM,
    MRN_SYSTEM,
    USER_SYSTEM,
    capability_statement,
    care_plan_resource,
    patient_resource,
    provenance_resource,
    search_bundle,
    task_resource,
)
from .search import check_params, count, next_link, period, token

TASK_PARAMS = {"status", "patient", "owner", "performer", "period", "_sort", "_count", "_cursor", "_format",
               "_lastUpdated", "_summary"}
PATIENT_PARAMS = {"identifier", "name", "birthdate", "_count", "_cursor", "_format"}
STATUSES = {"ready": ("ready", False), "in-progress": ("ready", True), "completed": ("completed", None),
            "cancelled": ("cancelled", None)}


@bp.get("/metadata")
def metadata() -> Response:
    """The CapabilityStatement (public, as FHIR clients read it before authenticating)."""
    check_params({"_format", "mode"})
    return fhir_response(capability_statement(service().ctx.now().date().isoformat(), _version()))


@functools.cache  # read once per process, not per request
def _version() -> str:
    try:
        return metadata_version("ovcf-pathway")
    except PackageNotFoundError:
        return "0"


@bp.get("/Patient/<patient_id>")
@roles(READERS)
def patient_read(patient_id: str) -> Response:
    check_params({"_format"})
    try:
        return fhir_response(patient_resource(service().patient(patient_id=patient_id)))
    except NotFound as exc:
        raise FhirError(404, f"Patient/{patient_id} is not known") from exc


@bp.get("/Patient")
@roles(READERS)
def patient_search() -> Response:
    """By ``identifier`` (system|value or value), ``name`` (any part) and ``birthdate``, a page at
    a time in identifier order."""
    check_params(PATIENT_PARAMS)
    svc = service()
    value = token("identifier", MRN_SYSTEM)
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
    page = svc.patients(name=name, birth_date=birth_date, limit=count(), after=request.args.get("_cursor"))
    return fhir_response(search_bundle([patient_resource(p) for p in page["items"]], request.url,
                                       next_link(page["next"])))


@bp.get("/Task/<task_id>")
@roles(READERS)
def task_read(task_id: str) -> Response:
    check_params({"_format"})
    try:
        task = service().task(task_id)
    except NotFound as exc:
        raise FhirError(404, f"Task/{task_id} is not known") from exc
    return fhir_response(task_resource(task), headers=etag(task))


@bp.get("/Task")
@roles(READERS)
def task_search() -> Response:
    check_params(TASK_PARAMS)
    criteria: dict[str, Any] = {"status": None}
    status = request.args.get("status")
    if status is not None:
        if status not in STATUSES:
            raise FhirError(400, f"status '{status}' is not one of {', '.join(STATUSES)}", expression=["status"])
        criteria["status"], criteria["claimed"] = STATUSES[status]
    patient = request.args.get("patient")
    if patient is not None:
        criteria["patient_id"] = patient.removeprefix("Patient/")
    owner = token("owner", USER_SYSTEM)
    if owner is not None:
        criteria["assignee"] = owner
    group = token("performer", GROUP_SYSTEM)
    if group is not None:
        criteria["candidate_group"] = group
    for value in request.args.getlist("period"):
        criteria.update(period(value))
    for value in request.args.getlist("_lastUpdated"):
        bound = period(value, "_lastUpdated")
        if "due_after" not in bound:
            raise FhirError(400, "_lastUpdated: gt or ge (changed since)", expression=["_lastUpdated"])
        criteria["updated_after"] = bound["due_after"]
    sort = request.args.get("_sort", "period")
    if sort not in ("period", "-priority"):
        raise FhirError(400, "_sort: period (due soonest first) or -priority", expression=["_sort"])
    criteria["order"] = "due" if sort == "period" else "priority"
    criteria["limit"] = count()
    criteria["cursor"] = request.args.get("_cursor")
    summary = request.args.get("_summary")
    if summary is not None:
        if summary != "count":
            raise FhirError(400, "_summary: only count is supported", code="not-supported", expression=["_summary"])
        total = service().tasks(**criteria, count_only=True)["total"]
        return fhir_response({"resourceType": "Bundle", "type": "searchset", "total": total,
                              "link": [{"relation": "self", "url": request.url}]})
    page = service().tasks(**criteria)
    return fhir_response(search_bundle([task_resource(t) for t in page["items"]], request.url,
                                       next_link(page["nextCursor"])))


@bp.get("/CarePlan/<pathway_id>")
@roles(READERS)
def care_plan_read(pathway_id: str) -> Response:
    check_params({"_format"})
    svc = service()
    try:
        pathway = svc.pathway(pathway_id)
    except NotFound as exc:
        raise FhirError(404, f"CarePlan/{pathway_id} is not known") from exc
    tasks = svc.tasks(pathway_id=pathway_id, status="ready", limit=200)["items"]
    return fhir_response(care_plan_resource(pathway, tasks))


@bp.get("/Provenance")
@roles(READERS)
def provenance_search() -> Response:
    """The audit events of a task or a pathway (who, when, what, why), oldest first."""
    check_params({"target", "_format"})
    target = request.args.get("target") or ""
    kind, _, ident = target.partition("/")
    svc = service()
    try:
        if kind == "Task":
            pathway_id = svc.task(ident)["pathwayId"]
            events = [e for e in svc.timeline(pathway_id) if e.get("taskId") == ident]
        elif kind == "CarePlan":
            events = svc.timeline(ident)
        else:
            raise FhirError(400, "target: Task/id or CarePlan/id", code="required", expression=["target"])
    except NotFound as exc:
        raise FhirError(404, f"{target} is not known", expression=["target"]) from exc
    return fhir_response(search_bundle([provenance_resource(e, target) for e in events], request.url, None))


@bp.route("/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unsupported(unknown: str) -> Response:
    """Anything else: an OperationOutcome naming what is supported (see /fhir/metadata)."""
    raise FhirError(404, f"'{unknown}' is not supported here; /fhir/metadata lists what is", code="not-supported")
