"""The pathway as the static checks and the verifier see it: elements, flows, scopes, what each
element reads and writes, and the markers a clinical lead sets in Camunda Modeler.

Built from the BPMN XML (lxml) and our decision registry, independent of SpiffWorkflow, so a
finding names the file and element id the Modeler shows.

Markers are Camunda extension properties (Modeler: "Extension properties" of the element, or
the "Properties" of a form field):

- ``inputs`` on a process: enrolment variables it reads besides its start form (comma separated);
- ``payload`` on a message catch event: the variables the message must carry (comma separated;
  ``-`` for none);
- ``clinicalEndpoint`` on an end event: what it means clinically when a track ends there;
- ``escalationExempt`` on a user task: why it needs no overdue escalation;
- ``record`` on a form field: the answer is kept for the record, although nothing reads it;
- ``cancelGuard`` on an activity: while it runs, the pathway cannot be cancelled by an
  administrator; the text says why and what to do instead;
- ``refreshOnMigration`` (``true``) on a business rule task: its result is a stored copy of
  policy, which a migration evaluates again with the new version's tables and replaces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lxml import etree

from .. import feel
from ..decisions import DecisionRegistry
from ..isotime import looks_like_iso_timer
from .decisioninfo import decision_reads, output_shapes, result_shape
from .feelscan import Comparison, PathT, comparisons, implied_set, null_tested, opaque_paths, read_paths
from .shapes import Shape

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN, "camunda": CAMUNDA}
SCOPES = ("process", "subProcess", "transaction")
FLOW_NODES = {
    "task", "userTask", "manualTask", "businessRuleTask", "callActivity", "subProcess", "transaction",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "startEvent", "endEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "receiveTask", "sendTask",
    "serviceTask", "scriptTask", "complexGateway", "adHocSubProcess",
}
Key = tuple[str, str]  # (file, element id): ids are unique within a file only


def local(node: Any) -> str:
    return etree.QName(node).localname


def declared_inputs(process: Element) -> list[str]:
    """The enrolment variables a process declares it reads besides its start form (``inputs``)."""
    return [n.strip() for n in (properties(process.node).get("inputs") or "").split(",") if n.strip()]


def properties(node: Any) -> dict[str, str]:
    """An element's or form field's Camunda extension properties (``name``/``id`` -> ``value``)."""
    found = {}
    for prop in node.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS):
        found[prop.get("name") or prop.get("id") or ""] = prop.get("value") or ""
    for prop in node.iterfind("camunda:properties/camunda:property", NS):
        found[prop.get("id") or prop.get("name") or ""] = prop.get("value") or ""
    return found


@dataclass(eq=False)
class Element:
    file: str
    id: str
    tag: str
    node: Any = field(repr=False)
    scope: Element | None = field(default=None, repr=False)  # enclosing sub-process or process
    process: str = ""

    @property
    def key(self) -> Key:
        return (self.file, self.id)

    @property
    def name(self) -> str:
        return self.node.get("name") or self.id

    def attr(self, name: str) -> str | None:
        return self.node.get(f"{{{CAMUNDA}}}{name}")

    @property
    def event_kind(self) -> str | None:
        for child in self.node:
            if isinstance(child.tag, str) and local(child).endswith("EventDefinition"):
                return local(child)[: -len("EventDefinition")]
        return None

    @property
    def signal(self) -> str:
        """The signalRef of a signal event ('' for any other element)."""
        for child in self.node:
            if isinstance(child.tag, str) and local(child) == "signalEventDefinition":
                return child.get("signalRef") or ""
        return ""

    @property
    def is_event_subprocess(self) -> bool:
        return self.tag == "subProcess" and self.node.get("triggeredByEvent") == "true"

    def enclosing(self) -> Iterator[Element]:
        """The sub-processes and the process around this element, innermost first."""
        scope = self.scope
        while scope is not None:
            yield scope
            scope = scope.scope


@dataclass
class Read:
    """An expression evaluated at ``at`` (its written-names set applies), reported on ``element``."""

    element: Element
    at: Element
    what: str
    text: str
    paths: set[PathT]
    null_aware: set[str]
    comparisons: list[Comparison]
    opaque: set[PathT]  # paths whose value is used other than in a comparison with a literal
    together: list[frozenset[str]] = field(default_factory=list)  # names one expression combines


@dataclass
class Write:
    element: Element
    name: str
    shape: Shape
    definite: bool  # False: an optional answer, or a value that may be left out
    source: str  # "input", "form", "decision", "payload"


@dataclass
class Catcher:
    element: Element
    message: str
    payload: list[str] | None  # None: not declared


class PathwayModel:
    """Every BPMN file of a bundle, cross-linked (call activities to processes, decisions to DMN)."""

    def __init__(self, files: Iterable[tuple[str, Any]], decisions: DecisionRegistry,
                 broken_decisions: frozenset[str] = frozenset()) -> None:
        self.decisions = decisions
        self.broken_decisions = broken_decisions
        self.elements: dict[Key, Element] = {}
        self.processes: dict[str, Element] = {}
        self.succ: dict[Key, list[Key]] = {}
        self.pred: dict[Key, list[Key]] = {}
        self.incoming_flows: dict[Key, list[Key]] = {}
        self.flows: dict[Key, tuple[Key, Key]] = {}
        self.boundaries: dict[Key, list[Element]] = {}
        self.reads: list[Read] = []
        self.writes: dict[Key, list[Write]] = {}
        self.catchers: list[Catcher] = []
        self.implied: dict[Key, set[str]] = {}  # flow -> names its condition guarantees are set
        self.roots = list(files)
        for filename, root in self.roots:
            for process in root.findall(f"{{{BPMN}}}process"):
                self._scope(filename, process, None, process.get("id"))
        for element in list(self.elements.values()):
            self._facts(element)

    # -- structure ---------------------------------------------------------------------------
    def _scope(self, filename: str, scope_node: Any, parent: Element | None, process: str) -> None:
        scope = Element(filename, scope_node.get("id"), local(scope_node), scope_node, parent, process)
        self.elements[scope.key] = scope
        if scope.tag == "process":
            self.processes[scope.id] = scope
        for child in scope_node:
            if not isinstance(child.tag, str):
                continue
            tag = local(child)
            if tag in SCOPES:
                self._scope(filename, child, scope, process)
            elif tag in FLOW_NODES:
                element = Element(filename, child.get("id"), tag, child, scope, process)
                self.elements[element.key] = element
        for child in scope_node.findall(f"{{{BPMN}}}sequenceFlow"):
            flow = Element(filename, child.get("id"), "sequenceFlow", child, scope, process)
            self.elements[flow.key] = flow
            source, target = (filename, child.get("sourceRef")), (filename, child.get("targetRef"))
            self.flows[flow.key] = (source, target)
            self.succ.setdefault(source, []).append(target)
            self.pred.setdefault(target, []).append(source)
            self.incoming_flows.setdefault(target, []).append(flow.key)
        for child in scope_node.findall(f"{{{BPMN}}}boundaryEvent"):
            host = (filename, child.get("attachedToRef"))
            self.boundaries.setdefault(host, []).append(self.elements[(filename, child.get("id"))])

    def children(self, scope: Element) -> list[Element]:
        return [e for e in self.elements.values() if e.scope is scope and e.tag != "sequenceFlow"]

    def reachable(self, roots: Iterable[Key], step: Callable[[Key], Iterable[Key]]) -> set[Key]:
        """Every key reached from ``roots`` by following ``step`` (e.g. sequence flows only, or flows
        plus boundary events and sub-process bodies), the roots included."""
        seen: set[Key] = set()
        todo = list(roots)
        while todo:
            key = todo.pop()
            if key not in seen:
                seen.add(key)
                todo.extend(step(key))
        return seen

    def outgoing(self, element: Element) -> list[Element]:
        return [self.elements[k] for k, (s, _) in self.flows.items() if s == element.key]

    def called(self, element: Element) -> Element | None:
        return self.processes.get(element.node.get("calledElement") or "")

    def message_name(self, element: Element) -> str | None:
        definition = element.node.find(f"{{{BPMN}}}messageEventDefinition")
        if definition is None:
            return None
        ref = definition.get("messageRef")
        root = element.node.getroottree().getroot()
        for message in root.iter(f"{{{BPMN}}}message"):
            if message.get("id") == ref:
                return message.get("name") or ref
        return ref

    def top_process(self) -> Element | None:
        called = {e.node.get("calledElement") for e in self.elements.values() if e.tag == "callActivity"}
        top = [p for p in self.processes.values() if p.node.get("isExecutable") == "true" and p.id not in called]
        return top[0] if len(top) == 1 else None

    def form_fields(self, element: Element) -> list[Any]:
        return list(element.node.iterfind("bpmn:extensionElements/camunda:formData/camunda:formField", NS))

    # -- reads and writes ----------------------------------------------------------------------
    def _read(self, element: Element, at: Element, what: str, text: str | None) -> None:
        if not text or not text.strip():
            return
        try:
            node = feel.parse_expression(feel.strip_wrapper(text)).node
        except feel.FeelSyntaxError:
            return  # lint reports the syntax error itself
        self.reads.append(Read(element, at, what, text.strip(), read_paths(node), null_tested(node),
                               comparisons(node), opaque_paths(node)))

    def _write(self, element: Element, name: str, shape: Shape, definite: bool, source: str) -> None:
        self.writes.setdefault(element.key, []).append(Write(element, name, shape, definite, source))

    def _facts(self, element: Element) -> None:
        tag, props = element.tag, properties(element.node)
        if tag == "process":
            for name in declared_inputs(element):  # enrolment variables (untyped; null is a value)
                self._write(element, name, Shape("any"), True, "input")
        if tag == "userTask":
            for attr in ("dueDate", "followUpDate"):
                text = element.attr(attr)
                if text and not looks_like_iso_timer(text.strip()):
                    self._read(element, element, f"camunda:{attr}", text)
            for attr in ("candidateGroups", "candidateUsers", "assignee", "priority"):
                text = element.attr(attr)
                if text and text.strip().startswith(("${", "=")):
                    self._read(element, element, f"camunda:{attr}", text)
            self._form_facts(element, "form")
        elif tag == "startEvent" and self.form_fields(element):
            self._form_facts(element, "input")
        elif tag == "businessRuleTask":
            self._decision_facts(element)
        elif tag == "sequenceFlow":
            cond = element.node.find(f"{{{BPMN}}}conditionExpression")
            if cond is not None:
                source = self.elements.get(self.flows[element.key][0])
                self._read(element, source or element, "condition", cond.text)
                try:
                    self.implied[element.key] = implied_set(feel.parse_expression(feel.strip_wrapper(cond.text or "")).node)
                except feel.FeelSyntaxError:
                    pass
        if element.event_kind == "timer":
            definition = element.node.find(f"{{{BPMN}}}timerEventDefinition")
            at = self.elements.get((element.file, element.node.get("attachedToRef") or "")) or element
            for kind in ("timeDate", "timeDuration", "timeCycle"):
                node = definition.find(f"{{{BPMN}}}{kind}")
                if node is not None and node.text and not looks_like_iso_timer(node.text.strip()):
                    self._read(element, at, kind, node.text)
        if element.event_kind == "message" and tag in ("startEvent", "boundaryEvent", "intermediateCatchEvent"):
            declared = props.get("payload")
            payload = None if declared is None else [n.strip() for n in declared.split(",")
                                                     if n.strip() and n.strip() not in ("-", "none")]
            self.catchers.append(Catcher(element, self.message_name(element) or "", payload))
            for name in payload or []:
                self._write(element, name, Shape("any"), True, "payload")

    def _form_facts(self, element: Element, source: str) -> None:
        for node in self.form_fields(element):
            fid, ftype = node.get("id"), node.get("type") or "string"
            if not fid:
                continue
            required = any(c.get("name") == "required" for c in
                           node.iterfind("camunda:validation/camunda:constraint", NS))
            values = None
            if ftype == "enum":
                values = frozenset(v.get("id") for v in node.findall(f"{{{CAMUNDA}}}value") if v.get("id"))
            default = node.get("defaultValue")
            self._write(element, fid, Shape("value", type=ftype, values=values, nullable=not required),
                        required or bool(default), source)
            if default and default.strip().startswith(("${", "=")):
                self._read(element, element, f"form field '{fid}' defaultValue", default)

    def _decision_facts(self, element: Element) -> None:
        ref = element.attr("decisionRef") or ""
        variable = element.attr("resultVariable")
        try:
            decision = self.decisions.get(ref)
        except KeyError:
            if variable:
                self._write(element, variable, Shape("any"), True, "decision")
            return
        reads = decision_reads(self.decisions, decision)
        self.reads.append(Read(element, element, f"decision '{ref}'", ref, reads.paths, reads.null_aware,
                               [Comparison(p, op, v) for p, op, v in reads.comparisons], reads.opaque,
                               reads.together))
        if variable:
            self._write(element, variable, result_shape(decision, element.attr("mapDecisionResult")), True,
                        "decision")
        else:  # a single row's outputs are merged (engine.models.script_engine.run_decision)
            for name, shape in output_shapes(decision).items():
                self._write(element, name, shape, False, "decision")

    # -- queries -------------------------------------------------------------------------------
    def all_writes(self) -> list[Write]:
        return [w for writes in self.writes.values() for w in writes]

    def writers_of(self, name: str) -> list[Write]:
        return self._writes_by_name.get(name, [])

    @cached_property
    def _writes_by_name(self) -> dict[str, list[Write]]:
        found: dict[str, list[Write]] = {}
        for write in self.all_writes():
            found.setdefault(write.name, []).append(write)
        return found

    @cached_property
    def callers(self) -> dict[str, list[Element]]:
        """Called process id -> the call activities that call it."""
        found: dict[str, list[Element]] = {}
        for element in self.elements.values():
            if element.tag == "callActivity" and self.called(element) is not None:
                found.setdefault(self.called(element).id, []).append(element)
        return found

    @cached_property
    def declared_payloads(self) -> dict[tuple[str, str], list[str]]:
        """(message name, catching element id) -> the variables its payload must carry."""
        return {(c.message, c.element.id): c.payload or [] for c in self.catchers}

    @cached_property
    def cancel_guards(self) -> dict[tuple[str, str], str]:
        """(process id, element id) -> why the pathway may not be cancelled while it runs."""
        return {(e.process, e.id): text for e in self.elements.values()
                if (text := properties(e.node).get("cancelGuard", "").strip())}
