"""Keeping a pathway's saved state bounded over years: finished history is dropped.

SpiffWorkflow keeps every task it ever ran, so a pathway that loops (weekly chases, yearly
reviews) grows its state, and every command reads and rewrites all of it. The audit table is
the history; the state needs only what execution can still read.

What execution reads looks back from the live tasks: a task inherits its data from its parent,
a boundary join finds its split above it, a gateway compares its own ancestors with earlier
runs. All of that lies below the deepest task that every live task descends from (their common
ancestor), or close above it. So in each (sub)process we keep that ancestor's sub-tree plus
``keep`` finished steps above it, hang the kept part under the root, and drop the rest, all of
it finished. Whatever is dropped keeps ancestry among kept tasks intact: every kept task is on
one path from the root. Finished sub-process instances whose task has finished (or is gone)
are dropped too.

The elements the dropped tasks completed are returned so "done" marks on the diagram survive.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState

KEEP_STEPS = 30  # finished steps kept above the live part: what "why this task" walks back through


def prune_history(workflow: Any, keep: int | None = None) -> set[str]:
    """Drop finished history from ``workflow`` and its sub-processes (in place); returns the
    BPMN ids of the completed tasks dropped. ``keep`` defaults to :data:`KEEP_STEPS`."""
    keep = KEEP_STEPS if keep is None else keep
    done: set[str] = set()
    flows = [workflow, *workflow.subprocesses.values()]
    for flow in flows:
        done |= _prune_tree(flow, keep)
    for sub_id, sub in list(workflow.subprocesses.items()):
        owner = next((flow.tasks[sub.parent_task_id] for flow in flows if sub.parent_task_id in flow.tasks), None)
        # a finished sub-process task never looks at its instance again (only a waiting one
        # would start a new instance when it finds none)
        if sub.is_completed() and (owner is None or owner.has_state(TaskState.FINISHED_MASK)):
            done |= {_bpmn_id(t) for t in sub.tasks.values() if t.state == TaskState.COMPLETED} - {None}
            del workflow.subprocesses[sub_id]
    return done


def _prune_tree(flow: Any, keep: int) -> set[str]:
    root = flow.task_tree
    live = [t for t in flow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not live:
        return set()
    top = _common_ancestor(live)
    for _ in range(keep):
        if top.parent is None or top.parent is root:
            return set()  # nothing far enough above the live part to drop
        top = top.parent
    if top.parent is root:
        return set()
    kept = {root.id, *(t.id for t in _subtree(top))}
    dropped = [t for t in flow.tasks.values() if t.id not in kept]
    if any(not t.has_state(TaskState.FINISHED_MASK) for t in dropped):
        return set()  # cannot happen (every live task is below ``top``); never drop live work
    for task in dropped:
        del flow.tasks[task.id]
    root._children = [top.id]
    top._parent = root.id
    if flow.last_task is not None and flow.last_task.id not in kept:
        flow.last_task = None
    return {_bpmn_id(t) for t in dropped if t.state == TaskState.COMPLETED} - {None}


def _common_ancestor(tasks: list[Any]) -> Any:
    """The deepest task that each of ``tasks`` is, or descends from."""
    path = _ancestry(tasks[0])
    position = {id(t): i for i, t in enumerate(path)}
    highest = 0
    for task in tasks[1:]:
        current = task
        while id(current) not in position:
            current = current.parent
        highest = max(highest, position[id(current)])
    return path[highest]


def _ancestry(task: Any) -> list[Any]:
    found = []
    while task is not None:
        found.append(task)
        task = task.parent
    return found


def _subtree(top: Any) -> list[Any]:
    found, stack = [], [top]
    while stack:
        task = stack.pop()
        found.append(task)
        stack.extend(task.children)
    return found


def _bpmn_id(task: Any) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None)
