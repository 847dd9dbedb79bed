"""Task updates through FHIR: PUT (or PATCH /status and /output) to claim, release or complete,
validated exactly as the form is."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from engine.service import InvalidInput

from .. import preconditions
from ..auth import WORKERS, actor, actor_groups, roles
from ..state import service
from . import FhirError, bp, etag, fhir_response
from .resources import (
    answers_from_output,
    task_resource,
)
from .search import check_params

PATCHABLE = {"/status", "/output"}


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
    check_params({"_format"})
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
    check_params({"_format"})
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
    svc, if_match = service(), preconditions.if_match()
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
    return fhir_response(task_resource(task), headers=etag(task))


def _form_errors(exc: InvalidInput) -> FhirError:
    """Every bad answer, each naming its field, as the form's validation found them."""
    errors = exc.errors or []
    message = "; ".join(f"{e.field}: {e.message}" for e in errors) or str(exc)
    return FhirError(422, f"the answers are not valid: {message}", code="invariant",
                     expression=[f"Task.output.where(type.coding.code='{e.field}')" for e in errors] or None)
