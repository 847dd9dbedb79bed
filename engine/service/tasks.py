"""The worklist: query, claim, unclaim and complete human tasks."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..forms import FormValidationError, json_ready, validate_submission
from ..runtime import PathwayRuntime, TaskNotReady
from ..store import Instance, Patient, Task, TaskStatus, add_audit, count_tasks, get_task, query_tasks
from .context import ServiceContext
from .errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed, require_running
from .persist import change_and_save


def task_view(task: Task, now: datetime, *, form: dict[str, Any] | None = None) -> dict[str, Any]:
    view = {
        "id": task.id,
        "pathwayId": task.instance_id,
        "patientId": task.patient_id,
        "elementId": task.element_id,
        "name": task.name,
        "status": task.status,
        "candidateGroups": sorted(task.candidate_groups),
        "candidateUsers": task.candidate_users or [],
        "assignee": task.assignee,
        "priority": task.priority,
        "due": task.due_at.isoformat() if task.due_at else None,
        "followUp": task.follow_up_at.isoformat() if task.follow_up_at else None,
        "overdue": bool(task.status == TaskStatus.READY and task.due_at and task.due_at < now),
        "createdAt": task.created_at.isoformat(),
        "completedAt": task.completed_at.isoformat() if task.completed_at else None,
        "completedBy": task.completed_by,
        "lane": task.lane,
        "etag": str(task.version),
        "updatedAt": task.updated_at.isoformat() if task.updated_at else None,
        "answers": task.answers,
    }
    if form is not None:
        view["form"] = form
    return view


def patient_labels(session, patient_ids: Collection[str | None]) -> dict[str, dict[str, Any]]:
    """Who each task is for, as a worklist shows it: one query for the page's patients."""
    wanted = sorted({p for p in patient_ids if p})
    if not wanted:
        return {}
    rows = session.execute(select(Patient.id, Patient.external_id, Patient.display_name)
                           .where(Patient.id.in_(wanted))).all()
    return {pid: {"externalId": external, "displayName": name} for pid, external, name in rows}


def require_candidate(task: Task, actor: str, actor_groups: Collection[str] | None) -> None:
    """A user with groups may work a task offered to one of their groups, to them by name, or
    assigned to them. ``None`` (no groups on the token) leaves the decision to the role."""
    if actor_groups is None:
        return
    offered = set(task.candidate_groups)
    if task.assignee == actor or actor in (task.candidate_users or []) or offered & set(actor_groups):
        return
    if not offered and not task.candidate_users:
        return  # a task offered to nobody in particular is anyone's
    raise Forbidden(f"task {task.id} is for {', '.join(sorted(offered)) or 'named users'}; "
                    f"you work in {', '.join(sorted(actor_groups)) or 'no group'}")


class TaskService:
    ctx: ServiceContext
    on_pathway: Callable[..., Any]

    def tasks(self, *, status: str | None = "ready", candidate_group: str | list[str] | None = None,
              assignee: str | None = None, patient_id: str | None = None, pathway_id: str | None = None,
              due_before: datetime | None = None, due_after: datetime | None = None, overdue: bool | None = None,
              limit: int = 50, cursor: str | None = None, order: str = "due",
              claimed: bool | None = None, updated_after: datetime | None = None,
              count_only: bool = False) -> dict[str, Any]:
        """A page of tasks, due soonest first (``order="priority"``: highest priority first);
        ``claimed``: only tasks someone holds (True) or nobody holds (False)."""
        now = self.ctx.now()
        criteria = {"status": status, "candidate_group": candidate_group, "assignee": assignee,
                    "patient_id": patient_id, "instance_id": pathway_id, "due_before": due_before,
                    "due_after": due_after, "overdue_at": now if overdue else None, "claimed": claimed,
                    "updated_after": updated_after}
        with self.ctx.read() as session:
            if count_only:  # how many match (FHIR _summary=count), no page
                return {"total": count_tasks(session, **criteria)}
            try:
                page = query_tasks(session, limit=limit, after_cursor=cursor, order=order, **criteria)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from exc
            labels = patient_labels(session, [t.patient_id for t in page.items])
            items = [{**task_view(t, now), "patient": labels.get(t.patient_id)} for t in page.items]
            return {"items": items, "nextCursor": page.next_cursor}

    def task(self, task_id: str) -> dict[str, Any]:
        with self.ctx.read() as session:
            task = get_task(session, task_id)
            if task is None:
                raise NotFound(f"task {task_id} not found")
            return {**task_view(task, self.ctx.now(), form=self.ctx.task_form(session, task)),
                    "patient": patient_labels(session, [task.patient_id]).get(task.patient_id)}

    def task_reason(self, task_id: str) -> dict[str, Any] | None:
        """Why the task is there: the branch or event just before it and the decision behind
        that branch, with its trace (:func:`engine.explain.explain`); None for a task that is no
        longer open or where nothing branched or decided on the way."""
        from ..explain import explain

        with self.ctx.read() as session:
            task = get_task(session, task_id)
            if task is None:
                raise NotFound(f"task {task_id} not found")
            if task.status != TaskStatus.READY:
                return None
            instance = session.get(Instance, task.instance_id)
            runtime = self.ctx.load_runtime(session, instance)
            model = self.ctx.bundle_for(instance.definition).model
        return explain(runtime.workflow, model, task_id) if model is not None else None

    def _ready_task(self, session, task_id: str, if_match: str | None) -> Task:
        task = get_task(session, task_id)
        if task is None:
            raise NotFound(f"task {task_id} not found")
        if if_match is not None and if_match.strip('"') != str(task.version):
            raise PreconditionFailed(f"task {task_id} has changed (version {task.version}); reload it")
        if task.status != TaskStatus.READY:
            raise Conflict(f"task {task_id} is {task.status}")
        return task

    def claim(self, task_id: str, *, actor: str, if_match: str | None = None,
              actor_groups: Collection[str] | None = None) -> dict[str, Any]:
        return self._assign(task_id, actor, actor, "task.claim", if_match, actor_groups)

    def unclaim(self, task_id: str, *, actor: str, if_match: str | None = None,
                release_others: bool = False) -> dict[str, Any]:
        """Give the task back to its candidates. Only whoever holds it may, unless the caller may
        release others' claims (``release_others``: a clinical lead or an administrator)."""
        return self._assign(task_id, actor, None, "task.unclaim", if_match, None, release_others)

    def _assign(self, task_id: str, actor: str, assignee: str | None, action: str, if_match: str | None,
                actor_groups: Collection[str] | None, release_others: bool = False) -> dict[str, Any]:
        """Claims live in the projection only (the workflow has no notion of them), audited."""
        with self.ctx.write() as session:
            require_running(self.ctx.lock_task_pathway(session, task_id))
            task = self._ready_task(session, task_id, if_match)
            if assignee is not None:
                require_candidate(task, actor, actor_groups)
                if task.assignee not in (None, actor):
                    raise Conflict(f"task {task_id} is claimed by {task.assignee}")
            elif task.assignee not in (None, actor) and not release_others:
                raise Forbidden(f"task {task_id} is claimed by {task.assignee}: only they, a clinical lead or an "
                                "administrator may release it")
            before = task.assignee
            task.assignee = assignee
            task.updated_at = self.ctx.now()
            add_audit(session, at=self.ctx.now(), actor=actor, action=action, instance_id=task.instance_id,
                      task_id=task.id, patient_id=task.patient_id, before={"assignee": before},
                      after={"assignee": assignee})
            session.flush()
            return task_view(task, self.ctx.now())

    def complete(self, task_id: str, variables: dict[str, Any], *, actor: str,
                 if_match: str | None = None, actor_groups: Collection[str] | None = None) -> dict[str, Any]:
        """Validate the form data, run the task and everything that follows, in one transaction
        (timers that fell due before it fire first, in the same transaction)."""

        def body(session: Session, instance: Instance, runtime: PathwayRuntime) -> dict[str, Any]:
            task = self._ready_task(session, task_id, if_match)
            require_candidate(task, actor, actor_groups)
            if task.assignee not in (None, actor):
                raise Conflict(f"task {task_id} is claimed by {task.assignee}")
            try:
                values = validate_submission(self.ctx.task_form(session, task, instance.definition_id), variables)
            except FormValidationError as exc:
                raise InvalidInput("the submitted form is not valid", exc.errors) from exc
            task.answers = json_ready(values)  # written with the completion, in the same UPDATE
            after = change_and_save(
                self.ctx, session, instance, runtime, lambda r: r.complete_task(task_id, values),
                actor=actor, action="task.complete", conflicts=(TaskNotReady,), task_id=task_id,
                completed_ids=[task_id], details={"elementId": task.element_id, "variables": sorted(values)})
            return {"task": task_view(task, self.ctx.now()), "pathway": after}

        return self.on_pathway(lambda session: self.ctx.lock_task_pathway(session, task_id), body)
