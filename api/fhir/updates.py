"""Task updates through FHIR: PUT (or PATCH /status and /output) to claim, release or complete,
validated exactly as the form is; CarePlan read and Provenance search."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from engine.service import InvalidInput, NotFound

from ..auth import READERS, WORKERS, actor, actor_groups, roles
from ..state import service
from . import FhirError, bp, fhir_response
from .resources import answers_from_output, care_plan_resource, provenance_resource, task_resource
from .views import _check

PATCHABLE = {"/status", "/output"}


def _if_match() -> str | None:
    value = (request.headers.get("If-Match") or "").strip()
    if not value or value == "*":
        return None
    return value.removeprefix("W/").strip('"')


def _body() -> Any:
    body = request.get_json(silent=True, force=True)
    if body is None:
        raise FhirError(400, "send the body as JSON (application/fhir+json)", code="structure")
    return body


@bp.put("/Task/<task_id>")
@roles(WORKERS)
def task_update(task_id: str) -> Response:
    """Claim (status in-progress), release (ready) or complete (completed, with the answers in
    ``output``); ``If-Match`` guards against a stale copy (412)."""
    _check({"_format"})
    resource = _body()
    if not isinstance(resource, dict) or resource.get("resourceType") != "Task":
        raise FhirError(400, "the body must be a Task resource", code="structure", expression=["Task"])
    if resource.get("id") not in (None, task_id):
        raise FhirError(400, f"the Task's id {resource.get('id')} is not {task_id}", expression=["Task.id"])
    return _apply(task_id, resource.get("status"), resource.get("output") or [])


@bp.patch("/Task/<task_id>")
@roles(WORKERS)
def task_patch(task_id: str) -> Response:
    """A JSON Patch of ``/status`` and ``/output`` (add or replace), or a merge patch of those two
    elements, applied as a PUT would be."""
    _check({"_format"})
    operations = _body()
    if isinstance(operations, dict):  # a merge patch: the elements to change (as fhirpy sends them)
        unknown = set(operations) - {"resourceType", "id", "status", "output", "meta"}
        if unknown:
            raise FhirError(422, f"only status and output can be patched, not {', '.join(sorted(unknown))}",
                            code="not-supported", expression=[f"Task.{sorted(unknown)[0]}"])
        return _apply(task_id, operations.get("status"), operations.get("output") or [])
    if not isinstance(operations, list):
        raise FhirError(400, "send a JSON Patch (a list of operations) or the elements to change",
                        code="structure")
    status, output = None, []
    for n, op in enumerate(operations):
        if not isinstance(op, dict) or op.get("op") not in ("add", "replace") or op.get("path") not in PATCHABLE:
            raise FhirError(422, f"operation {n}: only add or replace of /status and /output", code="not-supported",
                            expression=[f"Patch[{n}]"])
        if op["path"] == "/status":
            status = op.get("value")
        else:
            output = op.get("value") or []
    return _apply(task_id, status, output)


def _apply(task_id: str, status: Any, output: Any) -> Response:
    svc, if_match = service(), _if_match()
    if status == "completed":
        if not isinstance(output, list):
            raise FhirError(400, "Task.output must be a list", expression=["Task.output"])
        try:
            answers = answers_from_output(output)
        except ValueError as exc:
            raise FhirError(400, str(exc), expression=["Task.output"]) from exc
        try:
            svc.complete(task_id, answers, actor=actor(), if_match=if_match, actor_groups=actor_groups())
        except InvalidInput as exc:
            raise _form_errors(exc) from exc
    elif status == "in-progress":
        svc.claim(task_id, actor=actor(), if_match=if_match, actor_groups=actor_groups())
    elif status == "ready":
        svc.unclaim(task_id, actor=actor(), if_match=if_match)
    else:
        raise FhirError(422, f"status '{status}': in-progress (claim), ready (release) or completed",
                        code="business-rule", expression=["Task.status"])
    task = svc.task(task_id)
    return fhir_response(task_resource(task), headers={"ETag": f'W/"{task["etag"]}"'})


def _form_errors(exc: InvalidInput) -> FhirError:
    """Every bad answer, each naming its field, as the form's validation found them."""
    errors = exc.errors or []
    message = "; ".join(f"{e.field}: {e.message}" for e in errors) or str(exc)
    return FhirError(422, f"the answers are not valid: {message}", code="invariant",
                     expression=[f"Task.output.where(type.coding.code='{e.field}')" for e in errors] or None)


@bp.get("/CarePlan/<pathway_id>")
@roles(READERS)
def care_plan_read(pathway_id: str) -> Response:
    _check({"_format"})
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
    from .resources import search_bundle

    _check({"target", "_format"})
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
