"""Why a task is in front of someone: the decision (with its trace) and the branch that led to it.

A coordinator looking at "Record the DXA the risk tier needs" should see that DT3 decided the
risk tier is UNDETERMINED and that the gateway "Secondary cause or tier?" took the "tier
undetermined" branch because of it, not only a task name. The engine keeps each business rule
task's result and trace on the task that ran it; this walks back from the task along the path
the patient actually took (SpiffWorkflow's task tree, across sub-process and call boundaries) to:

1. what came just before the task: the branch of a gateway (its flow's name or condition), or the
   timer or message event that started it;
2. the nearest decision on that path whose result that branch reads (or, with no branch, the
   nearest decision at all).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.exceptions import WorkflowException

from .analysis import PathwayModel
from .analysis.model import BPMN, Element

_BRANCHING = ("exclusiveGateway", "inclusiveGateway", "eventBasedGateway")
_EVENTS = ("boundaryEvent", "intermediateCatchEvent", "startEvent")
_WORK = ("userTask", "manualTask", "task", "serviceTask", "scriptTask", "sendTask", "receiveTask")


def explain(workflow: Any, model: PathwayModel, task_id: str) -> dict[str, Any] | None:
    """``{"via": ..., "decision": ...}`` for a task of ``workflow`` (either part may be None),
    or None when nothing on the way to it branched or decided."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError, WorkflowException):  # an unknown id is simply not explained
        return None
    by_id = {e.id: e for e in model.elements.values() if e.tag != "sequenceFlow"}
    path = [t for t in _back(workflow, task) if getattr(t.task_spec, "bpmn_id", None) in by_id]
    via: dict[str, Any] | None = None
    reads: set[str] | None = None
    for before, after in zip(path[1:], path, strict=False):
        element = by_id[before.task_spec.bpmn_id]
        if element.tag in _BRANCHING:
            via, reads = _branch(model, element, _flow(model, element, by_id[after.task_spec.bpmn_id]))
            break
        if element.tag == "businessRuleTask":
            break  # decided just before: that decision is the reason
        if element.tag in _EVENTS and element.event_kind in ("timer", "message", "signal", "conditional"):
            return {"via": {"kind": element.event_kind, "element": element.id, "name": element.name,
                            "on": _host_name(model, element)}, "decision": None}
        if element.tag in _WORK:
            return {"via": {"kind": "after", "element": element.id, "name": element.name}, "decision": None}
    for earlier in path[1:]:
        found = earlier._get_internal_data("decision")
        if not found:
            continue
        element = by_id[earlier.task_spec.bpmn_id]
        result = element.attr("resultVariable") or found.get("decision")
        if reads is not None and result not in reads:
            continue
        return {"via": via, "decision": {"id": found.get("decision"), "element": element.id, "name": element.name,
                                          "resultVariable": result, "matchedRules": found.get("matchedRules") or [],
                                          "trace": found.get("trace") or []}}
    return {"via": via, "decision": None} if via else None


def _back(workflow: Any, task: Any) -> list[Any]:
    """The task and every task before it on the path taken, nearest first; a sub-process's or
    called process's first task leads back to the task that started it."""
    found = []
    current = task
    while current is not None:
        found.append(current)
        parent = current.parent
        if parent is None:
            owner = getattr(current.workflow, "parent_task_id", None)
            parent = workflow.get_task_from_id(owner) if owner is not None else None
        current = parent
    return found


def _flow(model: PathwayModel, gateway: Element, target: Element) -> Element | None:
    for key, (source, to) in model.flows.items():
        if source == gateway.key and to == target.key:
            return model.elements[key]
    return None


def _branch(model: PathwayModel, gateway: Element, flow: Element | None) -> tuple[dict[str, Any], set[str]]:
    """The branch taken and the names its choice depended on: its own condition's, or for the
    default flow every other branch's (they were all false)."""
    outgoing = model.outgoing(gateway)
    default = flow is not None and gateway.node.get("default") == flow.id
    chosen = [f for f in outgoing if f is not flow] if default else [flow] if flow is not None else []
    reads: set[str] = set()
    for read in model.reads:
        if read.what == "condition" and read.element in chosen:
            reads |= {path[0] for path in read.paths}
    condition = flow.node.findtext(f"{{{BPMN}}}conditionExpression") if flow is not None else None
    return ({"kind": "branch", "element": gateway.id, "name": gateway.name,
             "branch": (flow.node.get("name") if flow is not None else None) or ("otherwise" if default else None),
             "condition": (condition or "").strip() or None, "default": default}, reads)


def _host_name(model: PathwayModel, event: Element) -> str | None:
    host = event.node.get("attachedToRef")
    found = model.elements.get((event.file, host)) if host else None
    return found.name if found is not None else None
