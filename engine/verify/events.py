"""What happened in one exploration step, read off the workflow: the BPMN elements that became
ready, started, completed or were cancelled (withdrawn by an interruption)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState

from ..models.specs import HumanTask

_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_GONE = TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR


@dataclass(frozen=True)
class Event:
    kind: str  # "ready" (a user task), "started", "completed", "cancelled"
    element: str
    process: str  # the process (or sub-process) id the element runs in
    file: str


@dataclass(frozen=True)
class TaskView:
    element: str
    process: str
    file: str
    state: int
    human: bool


def task_states(workflow: Any) -> dict[UUID, TaskView]:
    """Every task with a BPMN element, by id, with its state (cheap enough to take per step)."""
    views = {}
    for task in workflow.get_tasks():
        spec = task.task_spec
        element = getattr(spec, "bpmn_id", None)
        if not element:
            continue
        wf_spec = spec._wf_spec
        views[task.id] = TaskView(element, wf_spec.name, getattr(wf_spec, "file", "") or "", task.state,
                                  isinstance(spec, HumanTask))
    return views


def step_events(before: dict[UUID, TaskView], after: dict[UUID, TaskView]) -> list[Event]:
    """Events between two task-state maps of the same workflow (ids are kept across copies)."""
    events: list[Event] = []
    for task_id, view in after.items():
        old = before.get(task_id)
        was = old.state if old is not None else TaskState.FUTURE
        now = view.state
        if now == was:
            continue
        if now & _ACTIVE and not was & (_ACTIVE | _GONE):
            events.append(Event("started", view.element, view.process, view.file))
        if view.human and now == TaskState.READY and was != TaskState.READY:
            events.append(Event("ready", view.element, view.process, view.file))
        if now == TaskState.COMPLETED and not was & _GONE:
            if not was & _ACTIVE:
                events.append(Event("started", view.element, view.process, view.file))
            events.append(Event("completed", view.element, view.process, view.file))
        elif now == TaskState.CANCELLED and was & _ACTIVE:
            events.append(Event("cancelled", view.element, view.process, view.file))
    for task_id, old in before.items():
        if task_id not in after and old.state & _ACTIVE:
            events.append(Event("cancelled", old.element, old.process, old.file))
    return events
