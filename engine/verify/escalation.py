"""Every user task has a due date and, when it is overdue, an escalation: a timer boundary event
from which a task is reached. A task the model marks ``escalationExempt`` (with the reason) is
left out. This is read off the model; the explorer only supplies the path on which the task
first becomes ready, so a lead sees where it matters."""

from __future__ import annotations

from ..analysis import PathwayModel
from ..analysis.model import Element
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
    for boundary in model.boundaries.get(task.key, []):
        if boundary.event_kind != "timer":
            continue
        reached = model.reachable([boundary.key], lambda key: model.succ.get(key, []))
        if any(model.elements[key].tag == "userTask" for key in reached if key in model.elements):
            return True
    return False
