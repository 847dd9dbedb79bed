"""Writing a changed instance back: state, task projection and audit event in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ..forms import json_ready, with_defaults
from ..runtime import ExecutionError, PathwayRuntime
from ..store import Instance, add_audit, replace_ready_tasks
from .context import ServiceContext
from .errors import Conflict, InvalidInput


def snapshot(runtime: PathwayRuntime) -> dict[str, Any]:
    """The part of an instance's state an auditor compares before and after a change."""
    return {
        "status": runtime.status,
        "activeElements": runtime.active_elements(),
        "nextDueAt": _iso(runtime.next_due_at()),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def project_tasks(runtime: PathwayRuntime) -> list[dict[str, Any]]:
    shared_forms = runtime.bundle.human_forms
    rows = []
    for task in runtime.ready_human_tasks():
        defaults = task.get("defaults") or {}
        # the form is the definition's (read back through the bundle); the row keeps its defaults
        shared = shared_forms.get(task["elementId"]) == task.get("form")
        row = {
            "id": task["id"],
            "element_id": task["elementId"],
            "name": task["name"],
            "lane": task.get("lane"),
            "form": None if shared else with_defaults(task.get("form"), defaults),
            "form_defaults": json_ready(defaults) if shared and defaults else None,
            "candidate_groups": task.get("candidateGroups", []),
            "candidate_users": task.get("candidateUsers", []),
            "priority": task.get("priority"),
            "due_at": _parse(task.get("due")),
            "follow_up_at": _parse(task.get("followUp")),
            "created_at": _parse(task.get("createdAt")),
            # a modelled camunda:assignee applies when the task appears; later claims and
            # unclaims live in the projection and must not be overwritten on every save
            "initial_assignee": task.get("assignee"),
        }
        rows.append(row)
    return rows


def save(
    ctx: ServiceContext,
    session: Session,
    instance: Instance,
    runtime: PathwayRuntime,
    *,
    actor: str,
    action: str,
    before: dict[str, Any] | None,
    details: dict[str, Any] | None = None,
    completed_ids: Collection[str] = (),
    task_id: str | None = None,
    reason: str | None = None,
    write_state: bool = True,
    fresh: bool = False,
) -> dict[str, Any]:
    """Record one step: the instance's status and next due time, the task projection and the
    audit event, and (unless ``write_state`` is False: a caller saving several steps in one
    transaction writes it once, after the last) the workflow state. ``fresh``: the instance was
    created in this transaction, so it has no task rows yet to look up."""
    now = ctx.now()
    after = snapshot(runtime)
    if write_state:
        instance.state = runtime.dump()
    instance.serializer_version = runtime.serializer_version
    instance.status = runtime.status
    instance.next_due_at = runtime.next_due_at() if runtime.status == "running" else None
    instance.updated_at = now
    changes = replace_ready_tasks(session, instance.id, project_tasks(runtime), now,
                                  completed_ids=completed_ids, completed_by=actor, fresh=fresh)
    task_changes = {k: v for k, v in vars(changes).items() if v}
    decided = _take_decisions(runtime)
    add_audit(session, at=now, actor=actor, action=action, instance_id=instance.id, task_id=task_id,
              patient_id=instance.patient_id, before=before, after=after, reason=reason,
              details={**(details or {}), **({"tasks": task_changes} if task_changes else {}),
                       **({"decisions": decided} if decided else {})} or None)
    return after


def _take_decisions(runtime: PathwayRuntime) -> list[dict[str, Any]]:
    """The decisions this step ran (element, decision, matched rules, result), for the audit."""
    engine = runtime.workflow.script_engine
    found = list(getattr(engine, "decided", ()))
    if found:
        engine.decided = []
    return json.loads(json.dumps(found, default=_plain))  # the audit column is JSON: dates as text


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


def change_and_save(
    ctx: ServiceContext,
    session: Session,
    instance: Instance,
    runtime: PathwayRuntime,
    change: Callable[[PathwayRuntime], object],
    *,
    actor: str,
    action: str,
    details: dict[str, Any],
    conflicts: tuple[type[Exception], ...] = (),
    completed_ids: Collection[str] = (),
    task_id: str | None = None,
) -> dict[str, Any]:
    """Apply one command to a loaded pathway and save it with its audit event.

    ``conflicts`` are the runtime's refusals that mean "not now" (409); a model that cannot run
    on the data given is invalid input (422). Either way the caller's transaction rolls back.
    """
    before = snapshot(runtime)
    try:
        change(runtime)
    except conflicts as exc:
        raise Conflict(str(exc)) from exc
    except ExecutionError as exc:
        raise InvalidInput(f"the pathway cannot proceed with these data: {exc}") from exc
    return save(ctx, session, instance, runtime, actor=actor, action=action, before=before, details=details,
                completed_ids=completed_ids, task_id=task_id)
