"""Deploy-time checks: everything we cannot run as a clinician reads it is refused here.

Each finding names the file, the element id and the problem, so a clinical lead can find it
in Camunda Modeler. Checks run on the XML itself (lxml), independent of SpiffWorkflow, so a
model that would only fail months later, when a timer is reached, fails now.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from lxml import etree

from .. import feel
from ..decisions import DecisionRegistry
from ..isotime import looks_like_iso_timer, parse_cycle, parse_datetime, parse_duration
from ..problems import Problem

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN, "camunda": CAMUNDA}

FLOW_NODES = {
    "task", "userTask", "manualTask", "businessRuleTask", "callActivity", "subProcess", "transaction",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "startEvent", "endEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "receiveTask", "sendTask",
    "serviceTask", "scriptTask", "complexGateway", "adHocSubProcess",
}
UNSUPPORTED = {
    "scriptTask": "script tasks are not run (pathways hold no code); use a business rule task with a DMN table",
    "serviceTask": "service tasks are not run (no Java delegates or connectors); use a user or business rule task",
    "sendTask": "send tasks are not run; use a message end or throw event",
    "complexGateway": "complex gateways are not supported; use exclusive, parallel or inclusive gateways",
    "adHocSubProcess": "ad-hoc sub-processes are not supported",
}
FORM_TYPES = {"string", "long", "double", "boolean", "date", "enum"}
NUMERIC_CONSTRAINTS = {"min", "max", "minlength", "maxlength"}
ISO_PARSERS = {"timeDuration": parse_duration, "timeDate": parse_datetime, "timeCycle": parse_cycle}
ISO_KIND = {"timeDuration": "a duration (e.g. P3M, P6W)", "timeDate": "a date-time (e.g. 2027-01-01T09:00Z)",
            "timeCycle": "a repeating interval (e.g. R/P6M, R3/P2W)"}
ISO_LOOKALIKE = re.compile(r"^-?P[0-9TYMWDHS.,]*$|^R\d*/", re.IGNORECASE)


def _local(node) -> str:
    return etree.QName(node).localname


def _eid(node) -> str:
    return node.get("id") or _local(node)


class BpmnLinter:
    def __init__(self, filename: str, root, decisions: DecisionRegistry, process_ids: set[str],
                 broken_decisions: frozenset[str] = frozenset(), called: set[str] | None = None) -> None:
        self.filename = filename
        self.called = called or set()  # processes a call activity starts: not the pathway's top level
        self.root = root
        self.decisions = decisions
        self.process_ids = process_ids
        self.broken_decisions = broken_decisions
        self.problems: list[Problem] = []

    def report(self, node, message: str) -> None:
        self.problems.append(Problem(self.filename, _eid(node), message))

    def run(self) -> list[Problem]:
        processes = self.root.findall(f"{{{BPMN}}}process")
        if processes and not any(p.get("isExecutable") == "true" for p in processes):
            self.report(processes[0], "no process is marked executable (tick 'Executable' in the Modeler)")
        for node in self.root.iter(f"{{{BPMN}}}*"):
            self.check_node(node)
        for process in processes:
            self.check_reachability(process)
            self.check_event_subprocesses(process, top_level=process.get("id") not in self.called)
        return self.problems

    # -- per element -----------------------------------------------------------------------
    def check_node(self, node) -> None:
        tag = _local(node)
        if tag in UNSUPPORTED:
            self.report(node, UNSUPPORTED[tag])
        elif tag == "businessRuleTask":
            self.check_business_rule(node)
        elif tag == "callActivity":
            called = node.get("calledElement")
            if not called:
                self.report(node, "call activity has no called element")
            elif called not in self.process_ids:
                self.report(node, f"called process '{called}' is not in this deployment")
        elif tag == "userTask":
            self.check_user_task(node)
        elif tag == "sequenceFlow":
            self.check_flow_ends(node)
            self.check_condition(node)
        elif tag == "boundaryEvent":
            self.check_attachment(node)
        elif tag in ("timeDate", "timeDuration", "timeCycle"):
            self.check_timer(node, tag)
        elif tag == "timerEventDefinition":
            self.check_timer_definition(node)
        elif tag == "conditionalEventDefinition":
            cond = node.find(f"{{{BPMN}}}condition")
            self.check_feel(node.getparent(), cond.text if cond is not None else None, "condition")
        elif tag in ("messageEventDefinition", "signalEventDefinition", "errorEventDefinition",
                     "escalationEventDefinition"):
            self.check_ref(node, tag.replace("EventDefinition", ""))
        elif tag in ("exclusiveGateway", "inclusiveGateway"):
            self.check_gateway(node)
        elif tag == "eventBasedGateway":
            self.check_event_gateway(node)
        for listener in node.findall(f"{{{BPMN}}}extensionElements/*"):
            name = _local(listener)
            if name in ("executionListener", "taskListener"):
                self.report(node, f"camunda:{name} is not run by this engine; model the step explicitly")
            elif name == "inputOutput":
                self.report(node, "camunda:inputOutput mappings are not run; name variables in forms and decisions")
            elif name in ("in", "out") and listener.get("variables") != "all":
                self.report(node, f"camunda:{name} variable mappings are not run (a pathway has one variable "
                                  "scope); remove them or use 'all variables'")
        if node.find(f"{{{BPMN}}}multiInstanceLoopCharacteristics") is not None:
            self.report(node, "multi-instance activities are not supported yet; model one task per item")
        if node.find(f"{{{BPMN}}}standardLoopCharacteristics") is not None:
            self.report(node, "loop markers are not supported; model the loop with a gateway")
        if tag == "userTask" and (node.get(f"{{{CAMUNDA}}}formKey") or node.get(f"{{{CAMUNDA}}}formRef")) \
                and node.find(f".//{{{CAMUNDA}}}formData") is None:
            self.report(node, "external forms (camunda:formKey/formRef) cannot be rendered or validated here; "
                              "define the form fields in the Modeler's Forms tab (generated task form)")

    def check_feel(self, node, text: str | None, what: str) -> None:
        if text is None or not text.strip():
            self.report(node, f"{what} is empty")
            return
        try:
            feel.parse_expression(feel.strip_wrapper(text))
        except feel.FeelSyntaxError as exc:
            self.report(node, f"{what} '{text.strip()}' is not valid FEEL: {exc.message} at position {exc.position}")

    def check_timer(self, node, tag: str) -> None:
        event = node.getparent().getparent()
        text = (node.text or "").strip()
        if not text:
            self.report(event, f"{tag} is empty")
        elif looks_like_iso_timer(text):
            try:
                ISO_PARSERS[tag](text)
            except ValueError:
                self.report(event, f"{tag} '{text}' is not {ISO_KIND[tag]}")
        elif ISO_LOOKALIKE.match(text):
            self.report(event, f"{tag} '{text}' is not a valid ISO-8601 value (e.g. P3M, P6W, R/P6M, 2027-01-01T09:00Z)")
        else:
            self.check_feel(event, text, tag)

    def check_timer_definition(self, definition) -> None:
        event = definition.getparent()
        kinds = [k for k in ("timeDate", "timeDuration", "timeCycle") if definition.find(f"{{{BPMN}}}{k}") is not None]
        if not kinds:
            self.report(event, "timer has no type: choose a timeDate, timeDuration or timeCycle")
        elif kinds == ["timeCycle"] and _local(event) == "intermediateCatchEvent":
            self.report(event, "a cycle on an intermediate catch event starts a parallel token per occurrence; "
                               "use a duration in a loop")
        elif (kinds == ["timeCycle"] and _local(event) == "boundaryEvent"
              and event.get("cancelActivity", "true") != "false"):
            self.report(event, "a cycle on an interrupting boundary event would not interrupt; use a duration")
        elif (kinds == ["timeCycle"] and _local(event) == "startEvent"
              and event.getparent().get("triggeredByEvent") == "true" and event.get("isInterrupting", "true") != "false"):
            self.report(event, "a cycle cannot start an interrupting event sub-process; use a duration or date")
        elif (kinds == ["timeCycle"] and _local(event) == "boundaryEvent"
              and event.get("cancelActivity", "true") == "false"):
            # SpiffWorkflow 3.2 cancels the tokens a non-interrupting cycle spawned when its activity
            # completes (they are children of the timer task): reminders would vanish silently.
            self.report(event, "a non-interrupting cycle timer on a boundary event loses the tasks it started "
                               "when the activity completes; use a non-interrupting event sub-process with a "
                               "cycle timer start instead")

    def check_condition(self, flow) -> None:
        cond = flow.find(f"{{{BPMN}}}conditionExpression")
        if cond is None:
            return
        language = (cond.get("language") or "feel").lower()
        if language not in ("feel", "juel", "http://www.omg.org/spec/feel/20140401"):
            self.report(flow, f"condition language '{language}' is not supported; write the condition in FEEL")
        elif cond.get(f"{{{CAMUNDA}}}resource"):
            self.report(flow, "external condition scripts are not supported; write the condition in FEEL")
        else:
            self.check_feel(flow, cond.text, "condition")

    def check_gateway(self, gateway) -> None:
        gid, default = gateway.get("id"), gateway.get("default")
        outgoing = [f for f in self.root.iter(f"{{{BPMN}}}sequenceFlow") if f.get("sourceRef") == gid]
        if len(outgoing) < 2:
            return
        for flow in outgoing:
            if flow.get("id") != default and flow.find(f"{{{BPMN}}}conditionExpression") is None:
                self.report(flow, f"leaves gateway '{gid}' without a condition and is not its default flow")

    def check_event_gateway(self, gateway) -> None:
        # SpiffWorkflow folds the events after the gateway into one definition on the gateway task,
        # where two timers would share (and overwrite) one due time, and a cycle cannot repeat.
        gid = gateway.get("id")
        targets = {f.get("targetRef") for f in self.root.iter(f"{{{BPMN}}}sequenceFlow") if f.get("sourceRef") == gid}
        timers = [n for n in self.root.iter(f"{{{BPMN}}}intermediateCatchEvent") if n.get("id") in targets
                  and n.find(f"{{{BPMN}}}timerEventDefinition") is not None]
        if len(timers) > 1:
            self.report(gateway, f"event-based gateway '{gid}' has {len(timers)} timer branches; at most one "
                                 "is supported (put the earliest deadline there)")
        for timer in timers:
            if timer.find(f".//{{{BPMN}}}timeCycle") is not None:
                self.report(timer, "a cycle timer after an event-based gateway fires only once; use a duration")

    def check_business_rule(self, node) -> None:
        for attr in ("class", "expression", "delegateExpression", "type"):
            if node.get(f"{{{CAMUNDA}}}{attr}"):
                self.report(node, f"camunda:{attr} implementations are not run; reference a DMN decision")
                return
        ref = node.get(f"{{{CAMUNDA}}}decisionRef")
        if not ref:
            self.report(node, "business rule task has no camunda:decisionRef")
            return
        try:
            self.decisions.get(ref)
        except KeyError:
            if ref not in self.broken_decisions:  # a DMN file that failed to load says why itself
                self.report(node, f"decision '{ref}' is not in this deployment")
        mapping = node.get(f"{{{CAMUNDA}}}mapDecisionResult")
        if mapping and mapping not in ("singleEntry", "singleResult", "collectEntries", "resultList"):
            self.report(node, f"unknown camunda:mapDecisionResult '{mapping}'")

    def check_user_task(self, node) -> None:
        for attr in ("dueDate", "followUpDate"):
            text = node.get(f"{{{CAMUNDA}}}{attr}")
            if text and not looks_like_iso_timer(text.strip()):
                self.check_feel(node, text, f"camunda:{attr}")
        for attr in ("candidateGroups", "candidateUsers", "assignee", "priority"):
            text = node.get(f"{{{CAMUNDA}}}{attr}")
            if text and text.strip().startswith(("${", "=")):
                self.check_feel(node, text, f"camunda:{attr}")
        for field in node.iterfind(".//camunda:formData/camunda:formField", NS):
            self.check_form_field(node, field)

    def check_form_field(self, task, field) -> None:
        fid, ftype = field.get("id"), field.get("type") or "string"
        if not fid:
            self.report(task, "a form field has no id")
        if ftype not in FORM_TYPES:
            self.report(task, f"form field '{fid}' has unsupported type '{ftype}' ({', '.join(sorted(FORM_TYPES))})")
        default = field.get("defaultValue")
        if default and default.strip().startswith(("${", "=")):
            self.check_feel(task, default, f"form field '{fid}' defaultValue")
        if ftype == "enum" and not field.findall(f"{{{CAMUNDA}}}value"):
            self.report(task, f"enum form field '{fid}' has no values")
        for constraint in field.iterfind("camunda:validation/camunda:constraint", NS):
            name, config = constraint.get("name"), constraint.get("config")
            if name in ("minlength", "maxlength"):
                if not (config or "").isdigit():
                    self.report(task, f"form field '{fid}': constraint {name} needs a whole number, not '{config}'")
            elif name in NUMERIC_CONSTRAINTS:
                try:
                    if not math.isfinite(float(config)):
                        raise ValueError
                except (TypeError, ValueError):
                    self.report(task, f"form field '{fid}': constraint {name} needs a number, not '{config}'")
            elif name not in ("required", "readonly"):
                self.report(task, f"form field '{fid}': constraint '{name}' is not supported")

    def check_ref(self, node, kind: str) -> None:
        ref = node.get(f"{kind}Ref")
        if ref is None:
            if kind in ("message", "signal"):
                self.report(node.getparent(), f"{kind} event has no {kind}Ref")
            return
        if not self.root.findall(f".//{{{BPMN}}}{kind}[@id='{ref}']"):
            self.report(node.getparent(), f"{kind} '{ref}' is not defined in this file")

    # -- structure -------------------------------------------------------------------------
    def _siblings(self, node) -> set[str]:
        scope = node.getparent()
        return {n.get("id") for n in scope if isinstance(n.tag, str) and _local(n) in FLOW_NODES}

    def check_flow_ends(self, flow) -> None:
        """A flow's both ends, named: a missing or unknown end is its own finding, not a cascade
        of 'unreachable' elements (check_reachability stays quiet in that scope)."""
        ids = self._siblings(flow)
        for end, meaning in (("sourceRef", "where it comes from"), ("targetRef", "where it leads")):
            ref = flow.get(end)
            if not ref:
                self.report(flow, f"sequence flow has no {end} ({meaning} is missing): reconnect it in the Modeler")
            elif ref not in ids:
                self.report(flow, f"sequence flow's {end} '{ref}' is not an element of this process or sub-process")

    def check_attachment(self, event) -> None:
        ref = event.get("attachedToRef")
        if not ref:
            self.report(event, "boundary event is not attached to an activity (no attachedToRef): "
                               "drop it onto the task's border in the Modeler")
        elif ref not in self._siblings(event):
            self.report(event, f"boundary event is attached to '{ref}', which is not an activity of this process "
                               "or sub-process")

    def _broken_links(self, scope) -> bool:
        ids = {n.get("id") for n in scope if isinstance(n.tag, str) and _local(n) in FLOW_NODES}
        flows = scope.findall(f"{{{BPMN}}}sequenceFlow")
        events = scope.findall(f"{{{BPMN}}}boundaryEvent")
        return (any(f.get("sourceRef") not in ids or f.get("targetRef") not in ids for f in flows)
                or any(e.get("attachedToRef") not in ids for e in events))

    def check_reachability(self, scope) -> None:
        nodes = {n.get("id"): n for n in scope if isinstance(n.tag, str) and _local(n) in FLOW_NODES}
        flows = [f for f in scope.findall(f"{{{BPMN}}}sequenceFlow")]
        edges: dict[str, list[str]] = {}
        for flow in flows:
            edges.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
        seen: set[str] = set()
        frontier = [i for i, n in nodes.items() if _local(n) == "startEvent"
                    or (_local(n) == "subProcess" and n.get("triggeredByEvent") == "true")]
        if not any(_local(n) == "startEvent" for n in nodes.values()) and nodes:
            self.report(scope, "has no start event")
        while frontier:
            current = frontier.pop()
            if current in seen:
                continue
            seen.add(current)
            frontier.extend(edges.get(current, []))
            frontier.extend(i for i, n in nodes.items()
                            if _local(n) == "boundaryEvent" and n.get("attachedToRef") == current)
        broken = self._broken_links(scope)  # reported by element already: no cascade
        for node_id, node in nodes.items():
            if node_id not in seen and not broken:
                self.report(node, "is unreachable: no path leads to it from a start event")
            if _local(node) in ("subProcess", "transaction"):
                self.check_reachability(node)

    def check_event_subprocesses(self, scope, top_level: bool) -> None:
        for sub in scope.findall(f"{{{BPMN}}}subProcess"):
            if sub.get("triggeredByEvent") == "true" and not top_level:
                start = sub.find(f"{{{BPMN}}}startEvent")
                if start is not None and (start.find(f"{{{BPMN}}}messageEventDefinition") is not None
                                          or start.find(f"{{{BPMN}}}signalEventDefinition") is not None):
                    self.report(sub, "message/signal event sub-processes are only started in the pathway's own "
                                     "process (the engine never starts one inside a sub-process or a called "
                                     "process); use a boundary event, or an event-based gateway, instead")
            self.check_event_subprocesses(sub, top_level=False)


def lint_bpmn(files: Iterable[tuple[str, object]], decisions: DecisionRegistry,
              broken_decisions: frozenset[str] = frozenset()) -> list[Problem]:
    """Lint parsed BPMN roots ``(filename, lxml root)`` against the bundle's decisions
    (``broken_decisions``: declared in a DMN file that did not load, already reported)."""
    files = list(files)
    process_ids = {p.get("id") for _, root in files for p in root.iter(f"{{{BPMN}}}process")}
    called = {c.get("calledElement") for _, root in files for c in root.iter(f"{{{BPMN}}}callActivity")}
    problems: list[Problem] = []
    for filename, root in files:
        problems.extend(BpmnLinter(filename, root, decisions, process_ids, broken_decisions, called).run())
    return problems
