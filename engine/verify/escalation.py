"""Every user task has a due date and, when it is overdue, an escalation: a timer boundary event,
on the task or on a sub-process around it, from which a task is reached. A task the model marks
``escalationExempt`` (with the reason) is left out. This is read off the model; the explorer only
supplies the path on which the task first becomes ready, so a lead sees where it matters."""

from __future__ import annotations

from ..analysis import PathwayModel
from ..analysis.model import Element, Key
from ..analysis.model import properties as element_properties


def unescalated(model: PathwayModel) -> list[tuple[Element, str]]:
    """User tasks without a due date or without an escalation, each with what is missing."""
    found = []
    for element in model.elements.values():
        if element.tag != "userTask" or element_properties(element.node).get("escalationExempt"):
            continue
        if not element.attr("dueDate"):
            found.append((element, f"user task '{element.id}' has no due date (camunda:dueDate)"))
        elif not _escalates(model, element):
            found.append((element, f"user task '{element.id}' has no escalation when it is overdue: attach a timer "
                                   f"boundary event that leads to a task, or mark it escalationExempt with the reason"))
    return found


def _escalates(model: PathwayModel, task: Element) -> bool:
    """A timer boundary on the task, or on a sub-process around it (that timer runs while the
    task is open, as a check, a held dose and the dose share the late-dose escalation), leads to
    a task."""
    for holder in (task, *(s for s in task.enclosing() if s.tag != "process")):
        for boundary in model.boundaries.get(holder.key, []):
            if boundary.event_kind != "timer":
                continue
            reached = model.reachable([boundary.key], lambda key: model.succ.get(key, []))
            if any(model.elements[key].tag == "userTask" for key in reached if key in model.elements):
                return True
    return False


def inert_branches(model: PathwayModel, read: set[str], watched: set[str]) -> set[Key]:
    """Elements of escalation side branches nothing else can tell apart: what a non-interrupting
    timer boundary starts when the branch is only exempt user tasks whose answers nothing reads
    and plain end events (no throw, no gateway, no terminate), and no property names it. Whether
    such a chase is open or done changes no later step, so the state key leaves it out; it is no
    task of the patient's track either (the task it chases is, while it is open)."""
    inert: set[Key] = set()
    for boundaries in model.boundaries.values():
        for boundary in boundaries:
            if boundary.event_kind != "timer" or boundary.node.get("cancelActivity") != "false":
                continue
            branch = model.reachable(model.succ.get(boundary.key, []), lambda key: model.succ.get(key, []))
            if branch and all(_inert(model, key, read, watched) for key in branch):
                inert |= branch
    return inert


def _inert(model: PathwayModel, key: Key, read: set[str], watched: set[str]) -> bool:
    element = model.elements.get(key)
    if element is None or element.id in watched or model.boundaries.get(key):
        return False
    if element.tag == "endEvent":
        return element.event_kind is None
    if element.tag != "userTask" or not element_properties(element.node).get("escalationExempt"):
        return False
    return all(field.get("id") not in read for field in model.form_fields(element))
