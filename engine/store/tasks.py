"""The human-task projection: kept in step with the workflow, queried without it."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from .models import UNDATED, Instance, ReadyTaskGroup, Task, TaskCandidateGroup, TaskStatus
from .types import UTC

# Keys of a task dict that map straight onto columns. A key that is absent leaves the stored
# value alone, so a claim recorded only in the projection (assignee) survives a refresh.
_PLAIN_FIELDS = (
    "element_id",
    "name",
    "patient_id",
    "assignee",
    "candidate_users",
    "priority",
    "due_at",
    "follow_up_at",
    "form",
    "form_defaults",
    "lane",
)
MAX_PAGE = 1000
DEFAULT_PRIORITY = 50  # Camunda 7's task priority when the model sets none


@dataclass
class TaskChanges:
    """What :func:`replace_ready_tasks` did, by task id (handy for the audit trail)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


def replace_ready_tasks(
    session: Session,
    instance_id: str,
    tasks: Iterable[Mapping[str, Any]],
    now: datetime,
    *,
    completed_ids: Collection[str] = (),
    completed_by: str | None = None,
    fresh: bool = False,
) -> TaskChanges:
    """Make the projection's ready tasks for ``instance_id`` equal ``tasks``.

    Each dict needs ``id`` (the workflow task UUID) and ``element_id``; optional keys are
    ``name, patient_id, assignee, candidate_groups, candidate_users, priority, due_at,
    follow_up_at, form, lane, created_at`` and ``initial_assignee`` (the assignee a new task
    starts with; an existing task keeps its claim). New ids are inserted as ready (``created_at``
    defaults to ``now``, ``patient_id`` to the instance's); known ids get the keys present
    updated (a task that was closed and is ready again is re-opened). Ready tasks missing
    from ``tasks`` become ``completed`` (by ``completed_by`` at ``now``) when their id is
    in ``completed_ids``, else ``cancelled``. ``fresh``: the instance is new in this transaction
    and has no rows to read. Flushes; the caller commits.
    """
    wanted = {str(t["id"]): t for t in tasks}
    completed_ids = set(completed_ids)
    rows = [] if fresh else session.scalars(
        select(Task).where(
            Task.instance_id == instance_id,
            or_(Task.status == TaskStatus.READY, Task.id.in_(set(wanted) | completed_ids)),
        )
    ).all()
    existing = {row.id: row for row in rows}
    changes = TaskChanges()
    instance_patient: list[str | None] = []  # looked up once, only if a new task needs it
    new_rows: list[Task] = []

    for task_id, data in wanted.items():
        row = existing.get(task_id)
        if row is None:
            if "patient_id" not in data and not instance_patient:
                instance = session.get(Instance, instance_id)
                instance_patient.append(instance.patient_id if instance else None)
            row = Task(
                id=task_id,
                instance_id=instance_id,
                status=TaskStatus.READY,
                created_at=data.get("created_at") or now,
                patient_id=instance_patient[0] if instance_patient else None,
                candidate_users=[],
                assignee=data.get("initial_assignee"),
                updated_at=now,
            )
            _apply(row, data)
            session.add(row)
            new_rows.append(row)
            changes.created.append(task_id)
        elif _apply(row, data) or row.status != TaskStatus.READY:
            if row.status != TaskStatus.READY:
                row.status, row.completed_at, row.completed_by = TaskStatus.READY, None, None
            row.updated_at = now
            changes.updated.append(task_id)

    for task_id, row in existing.items():
        if task_id in wanted or row.status != TaskStatus.READY:
            continue
        row.updated_at = now
        if task_id in completed_ids:
            row.status, row.completed_at, row.completed_by = TaskStatus.COMPLETED, now, completed_by
            changes.completed.append(task_id)
        else:
            row.status = TaskStatus.CANCELLED
            changes.cancelled.append(task_id)
    session.flush()
    _index_ready_groups(session, new_rows,
                        [existing[t] for t in (*changes.updated, *changes.completed, *changes.cancelled)])
    return changes


def _index_ready_groups(session: Session, created: list[Task], changed: list[Task]) -> None:
    """Keep the per-group index of ready tasks: new tasks are added, changed ones (due date,
    groups, status) rewritten; tasks this save left as they were keep their entries."""
    if changed:
        session.execute(delete(ReadyTaskGroup).where(ReadyTaskGroup.task_id.in_([r.id for r in changed])))
    entries = [{"group_name": group, "due_order": row.due_order, "created_at": row.created_at, "task_id": row.id}
               for row in (*created, *changed) if row.status == TaskStatus.READY
               for group in row.candidate_groups]
    if entries:
        session.execute(insert(ReadyTaskGroup), entries)


def _apply(row: Task, data: Mapping[str, Any]) -> bool:
    """Copy the keys present in ``data`` onto ``row``; True if anything changed."""
    changed = False
    for name in _PLAIN_FIELDS:
        if name in data:
            value = data[name]
            if name == "candidate_users":
                value = list(value or [])
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed = True
    if "candidate_groups" in data:
        groups = list(dict.fromkeys(data["candidate_groups"] or []))
        if sorted(row.candidate_groups) != sorted(groups):
            row.candidate_groups = groups
            # Groups live in a child table; touch a column so the row's version (ETag) moves too.
            if row.version is not None:
                flag_modified(row, "candidate_users")
            changed = True
    return changed


def get_task(session: Session, task_id: str) -> Task | None:
    return session.get(Task, task_id)


@dataclass
class TaskPage:
    items: list[Task]
    next_cursor: str | None


def query_tasks(
    session: Session,
    *,
    limit: int = 50,
    after_cursor: str | None = None,
    order: str = "due",
    **criteria: Any,
) -> TaskPage:
    """One page of tasks, due soonest first, tasks without a due date last.

    Ties are broken by ``created_at`` then ``id``, so the order is total and the keyset
    cursor is stable on both databases even while tasks are added. ``order="priority"``:
    highest priority first (a task without one counts as Camunda's default,
    :data:`DEFAULT_PRIORITY`), then in due order. ``criteria``: those of :func:`_matching`.
    Raises ValueError for a malformed cursor or one from the other order.
    """
    limit = max(1, min(int(limit), MAX_PAGE))
    if order not in ("due", "priority"):
        raise ValueError(f"unknown order '{order}' (due or priority)")
    by_priority = order == "priority"
    found = decode_cursor(after_cursor) if after_cursor else None
    if found is not None and (found[0] is not None) != by_priority:
        raise ValueError("the cursor belongs to another sort order")
    stmt, keys, indexed = _matching(by_index=not by_priority, **criteria)
    priority = func.coalesce(Task.priority, DEFAULT_PRIORITY)
    if found is not None:
        after = _after(found[1:], keys)
        stmt = stmt.where(or_(priority < found[0], and_(priority == found[0], after)) if by_priority else after)
    ordering = (keys.due_order, keys.created_at, keys.task_id if indexed else Task.id)
    stmt = stmt.order_by(*((priority.desc(), *ordering) if by_priority else ordering)).limit(limit + 1)
    rows = list(session.scalars(stmt))
    more = len(rows) > limit
    items = rows[:limit]
    return TaskPage(items, encode_cursor(items[-1], by_priority) if more else None)


def count_tasks(session: Session, **criteria: Any) -> int:
    """How many tasks match ``criteria`` (those of :func:`_matching`)."""
    stmt, _, _ = _matching(by_index=True, **criteria)
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def _matching(
    *,
    by_index: bool,
    status: str | None = TaskStatus.READY,
    candidate_group: str | Collection[str] | None = None,
    assignee: str | None = None,
    patient_id: str | None = None,
    instance_id: str | None = None,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    overdue_at: datetime | None = None,
    claimed: bool | None = None,
    updated_after: datetime | None = None,
) -> tuple[Any, Any, bool]:
    """The tasks matching the criteria, and the table whose columns give the due order.

    ``candidate_group`` may be several names (any of them matches). ``due_before``/``due_after``
    are strict; ``overdue_at=now`` keeps tasks whose due time has passed. ``status=None`` means
    any; ``claimed``: someone holds the task (or nobody); ``updated_after``: changed since.
    """
    groups = None if candidate_group is None else (
        [candidate_group] if isinstance(candidate_group, str) else list(candidate_group))
    # one group's ready work, due order: read in order from that group's index of ready tasks,
    # so the page costs the same however many tasks the group ever had
    indexed = by_index and groups is not None and len(groups) == 1 and status == TaskStatus.READY
    keys: Any = ReadyTaskGroup if indexed else Task
    stmt = select(Task)
    if indexed:
        stmt = stmt.join(ReadyTaskGroup, ReadyTaskGroup.task_id == Task.id).where(
            ReadyTaskGroup.group_name == groups[0])
    else:
        if status is not None:
            stmt = stmt.where(Task.status == status)
        if groups is not None:
            # EXISTS rather than a join: no duplicate rows when a task matches several groups.
            stmt = stmt.where(
                exists().where(TaskCandidateGroup.task_id == Task.id, TaskCandidateGroup.group_name.in_(groups)))
    if assignee is not None:
        stmt = stmt.where(Task.assignee == assignee)
    if updated_after is not None:  # changed since a poller's last look
        stmt = stmt.where(Task.updated_at > updated_after)
    if claimed is not None:  # someone holds it (FHIR's in-progress) or nobody does yet
        stmt = stmt.where(Task.assignee.is_not(None) if claimed else Task.assignee.is_(None))
    if patient_id is not None:
        stmt = stmt.where(Task.patient_id == patient_id)
    if instance_id is not None:
        stmt = stmt.where(Task.instance_id == instance_id)
    if due_before is not None:
        stmt = stmt.where(keys.due_order < due_before)
    if due_after is not None:
        stmt = stmt.where(keys.due_order > due_after, keys.due_order < UNDATED)  # undated: never "after"
    if overdue_at is not None:
        stmt = stmt.where(keys.due_order < overdue_at)
    return stmt, keys, indexed


def _after(key: tuple[bool, datetime | None, datetime, str], keys: Any = Task) -> ColumnElement[bool]:
    """Rows strictly after ``key`` in (due, created, id) order, undated last (``due_order``),
    spelt out rather than as a row value so it reads the same on SQLite and PostgreSQL.
    ``keys``: the table whose columns give the order (the tasks, or a group's index of them)."""
    has_due, due, created, task_id = key
    due_order = due if has_due and due is not None else UNDATED
    ident = keys.task_id if keys is ReadyTaskGroup else keys.id
    # the leading ">=" is implied by the rest; it is there so the index is entered at the cursor
    # (a range), not scanned from its start: a deep page costs what the first one does
    return and_(keys.due_order >= due_order,
                or_(keys.due_order > due_order,
                    and_(keys.due_order == due_order,
                         or_(keys.created_at > created, and_(keys.created_at == created, ident > task_id)))))


def encode_cursor(task: Task, by_priority: bool = False) -> str:
    payload: list[Any] = [
        task.due_at is not None,
        task.due_at.astimezone(UTC).isoformat() if task.due_at else None,
        task.created_at.astimezone(UTC).isoformat(),
        task.id,
    ]
    if by_priority:  # the due-order cursor stays as it was; a priority cursor leads with its key
        payload = ["priority", task.priority if task.priority is not None else DEFAULT_PRIORITY, *payload]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int | None, bool, datetime | None, datetime, str]:
    """(priority, or None for a due-order cursor; has a due date; due; created; id)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        priority = None
        if isinstance(values, list) and values and values[0] == "priority":
            priority, values = values[1], values[2:]
            if not isinstance(priority, int) or isinstance(priority, bool):
                raise ValueError("bad priority")
        has_due, due, created, task_id = values
        if not isinstance(has_due, bool) or not isinstance(task_id, str):
            raise ValueError("bad types")
        due_at = datetime.fromisoformat(due) if has_due else None
        created_at = datetime.fromisoformat(created)
        if created_at.tzinfo is None or (due_at is not None and due_at.tzinfo is None):
            raise ValueError("naive datetime")
    except (binascii.Error, ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
        raise ValueError(f"invalid cursor: {cursor!r}") from exc
    return priority, has_due, due_at, created_at, task_id
