"""The worklist: query tasks (due soonest first), read one with its form, claim, unclaim, complete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from .auth import AUTHORS, READERS, WORKERS, actor, actor_groups
from .openapi import endpoint
from .preconditions import if_match
from .schemas import CompleteIn, CompleteOut, TaskDetail, TaskOut, TaskPage, TaskQuery
from .state import service

bp = Blueprint("tasks", __name__, url_prefix="/api/tasks")


def _etag(task: dict[str, Any]) -> dict[str, str]:
    return {"ETag": f'"{task["etag"]}"'}


@bp.get("")
@endpoint(roles=READERS, tags=("tasks",), query=TaskQuery, ok={"HTTP_200": TaskPage})
def list_tasks(query: TaskQuery) -> dict[str, Any]:
    """Tasks sorted by due date ascending (undated last), or with ``sort=priority`` highest
    priority first (none counts as Camunda's 50) then by due date; filtered, one page at a time."""
    return service().tasks(
        status=None if query.status == "any" else query.status, candidate_group=query.candidateGroup,
        assignee=query.assignee, patient_id=query.patientId, pathway_id=query.pathwayId,
        due_before=query.dueBefore, due_after=query.dueAfter, overdue=query.overdue, limit=query.limit,
        cursor=query.cursor, order=query.sort,
    )


@bp.get("/<task_id>")
@endpoint(roles=READERS, tags=("tasks",), ok={"HTTP_200": TaskDetail}, errors=(404,))
def task(task_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """One task with its form (fields, types, options, constraints); the ETag is its version."""
    found = service().task(task_id)
    return found, 200, _etag(found)


@bp.post("/<task_id>/claim")
@endpoint(roles=WORKERS, tags=("tasks",), ok={"HTTP_200": TaskOut}, errors=(404, 409, 412))
def claim(task_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Make the caller the task's assignee (409 if someone else has it)."""
    claimed = service().claim(task_id, actor=actor(), if_match=if_match(), actor_groups=actor_groups())
    return claimed, 200, _etag(claimed)


@bp.post("/<task_id>/unclaim")
@endpoint(roles=WORKERS, tags=("tasks",), ok={"HTTP_200": TaskOut}, errors=(404, 409, 412))
def unclaim(task_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Give the task back to its candidate groups: the assignee's own claim, or anyone's for a
    clinical lead or an administrator (403 otherwise)."""
    released = service().unclaim(task_id, actor=actor(), if_match=if_match(),
                                 release_others=g.principal.role in AUTHORS)
    return released, 200, _etag(released)


@bp.post("/<task_id>/complete")
@endpoint(roles=WORKERS, tags=("tasks",), json=CompleteIn, ok={"HTTP_200": CompleteOut},
          errors=(404, 409, 412, 415))
def complete(task_id: str, json: CompleteIn) -> dict[str, Any]:
    """Submit the form and run what follows; 409 when not ready, 412 on a stale If-Match, 422 per field."""
    return service().complete(task_id, json.variables, actor=actor(), if_match=if_match(),
                              actor_groups=actor_groups())
