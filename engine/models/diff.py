"""What changed in meaning between two versions of a bundle, said the way a clinical lead reads it.

Both versions are compared through their canonical forms (``canonical.py``), so layout,
formatting and defaults written out or left out never show up. Every element with an ``id`` is
one item, found by the chain of ids above it (a form field's id is unique only in its task); an
item's own content is its attributes, its text and its children that have no id. A timer's
schedule, a decision table cell and a form field each get their own sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from lxml import etree

from .canonical import canonical_form

Node = list[Any]  # [tag, attributes, text, children], as canonical_form builds it
Key = tuple[str, ...]

REFERENCES = {"incoming": "incoming flow", "outgoing": "outgoing flow", "flowNodeRef": "lane member"}
TIMER_PARTS = {"timeDuration": "waits", "timeDate": "fires at", "timeCycle": "repeats"}
TYPES = {
    "userTask": "Task", "businessRuleTask": "Decision step", "serviceTask": "Service step",
    "scriptTask": "Script step", "callActivity": "Called pathway", "subProcess": "Sub-process",
    "startEvent": "Start", "endEvent": "End", "boundaryEvent": "Escalation", "intermediateCatchEvent": "Wait",
    "intermediateThrowEvent": "Signal", "exclusiveGateway": "Choice", "inclusiveGateway": "Choice",
    "parallelGateway": "Split/join", "eventBasedGateway": "First of", "sequenceFlow": "Flow",
    "decision": "Decision", "rule": "Rule", "input": "Input column", "output": "Output column",
    "formField": "Form field", "process": "Process", "message": "Message", "signal": "Signal",
}


@dataclass(frozen=True)
class Change:
    file: str
    change: str  # added | removed | changed
    kind: str  # element | timer | rule | cell | form-field | file
    element: str  # the element's id ("" for a whole file)
    text: str  # the sentence a clinical lead reads
    attribute: str | None = None
    old: str | None = None
    new: str | None = None
    # what came with an added or removed element: its flows, escalations and the rewiring of its
    # neighbours, each as its own sentence (one edit in the Modeler is one change here)
    related: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()
                if v is not None and v != ()}


def diff_bundles(old: Mapping[str, str], new: Mapping[str, str]) -> list[Change]:
    """Every change of meaning from ``old`` to ``new`` (file name → text), file by file."""
    changes: list[Change] = []
    for name in sorted(set(old) | set(new)):
        if name not in new:
            changes.append(Change(name, "removed", "file", "", f"File {name} removed"))
        elif name not in old:
            changes.append(Change(name, "added", "file", "", f"File {name} added"))
        else:
            changes.extend(_diff_file(name, canonical_form(old[name]), canonical_form(new[name])))
    return changes


def _diff_file(name: str, old: Any, new: Any) -> list[Change]:
    if not isinstance(old, list) or not isinstance(new, list):  # not XML: compared as text
        return [] if old == new else [Change(name, "changed", "file", "", f"File {name} changed")]
    before, after = _items(old), _items(new)
    labels = _Labels(after, before)
    found: list[Change] = []
    place = {key: n for n, key in enumerate([*after, *(k for k in before if k not in after)])}
    for key in sorted(place, key=place.__getitem__):  # in the order the new version has them
        if key not in after:
            if key[:-1] in before and key[:-1] not in after:
                continue  # inside a removed element: that element's removal says it
            found.append(labels.whole(name, "removed", key, before[key]))
        elif key not in before:
            if key[:-1] in after and key[:-1] not in before:
                continue
            found.append(labels.whole(name, "added", key, after[key]))
        else:
            old_props, new_props = _own(before[key]), _own(after[key])
            for prop in sorted(set(old_props) | set(new_props)):
                if old_props.get(prop) != new_props.get(prop):
                    found.append(labels.changed(name, key, after[key], prop, old_props.get(prop),
                                                new_props.get(prop)))
    found = _fold(found, "added", after, labels)
    return _fold(found, "removed", before, labels)


WIRING = re.compile(r"^(?:(?:incoming|outgoing|flowNodeRef):.+|@(?:sourceRef|targetRef|attachedToRef|default))$")


def _fold(changes: list[Change], how: str, items: dict[Key, Node], labels: _Labels) -> list[Change]:
    """Group each connected set of added (or removed) elements (flow nodes, their flows and the
    escalations attached to them) under its first flow node, with the rewiring of the elements
    around it: inserting a task on a flow is one change, not five."""
    by_id = {key[-1]: node for key, node in items.items()}
    members = [c.element for c in changes if c.change == how and c.kind != "file" and c.element in by_id]
    parent = {m: m for m in members}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for member in members:
        for ref in ("sourceRef", "targetRef", "attachedToRef"):
            other = by_id[member][1].get(ref)
            if other in parent:
                parent[root(member)] = root(other)
    groups: dict[str, list[str]] = {}
    for member in members:  # document order: the first flow node of a group names it
        groups.setdefault(root(member), []).append(member)
    heads: dict[str, str] = {}
    for group in groups.values():
        nodes = [m for m in group if _local(by_id[m][0]) not in ("sequenceFlow", "boundaryEvent")] or group
        heads.update({m: nodes[0] for m in group})
    related: dict[str, list[str]] = {head: [] for head in set(heads.values())}
    # flows that were there before and now lead into or out of a group: rewiring that names them
    # (a node's incoming flow list, say) belongs to the group's change too
    touching = {ident: heads[end] for ident, node in by_id.items() if _local(node[0]) == "sequenceFlow"
                for end in (node[1].get("sourceRef"), node[1].get("targetRef")) if end in heads}
    kept: list[Change] = []
    for change in changes:
        head = heads.get(change.element) if change.change == how else None
        if head is None and change.attribute and WIRING.match(change.attribute):
            head = next((found for ref in (change.new, change.old) if ref
                         for found in (heads.get(ref), touching.get(ref)) if found), None)
        if head is not None and change.element != head:
            related[head].append(change.text)
        else:
            kept.append(change)
    result = []
    for change in kept:
        if change.element in related and change.change == how:
            group = {m for m in heads if heads[m] == change.element}
            flows = [n for n in by_id.values() if _local(n[0]) == "sequenceFlow"
                     and (n[1].get("sourceRef") in group or n[1].get("targetRef") in group)]
            before = sorted({f[1].get("sourceRef") for f in flows if f[1].get("sourceRef") not in group} - {None})
            after = sorted({f[1].get("targetRef") for f in flows if f[1].get("targetRef") not in group} - {None})
            where = ""
            if before or after:
                where = (" between " if before and after else " after " if before else " before ") + " and ".join(
                    filter(None, [", ".join(labels.name(b) for b in before), ", ".join(labels.name(a) for a in after)]))
            change = Change(change.file, change.change, change.kind, change.element, change.text + where,
                            change.attribute, change.old, change.new, tuple(related[change.element]))
        result.append(change)
    return result


def _items(root: Node) -> dict[Key, Node]:
    """Every element with an id, by the chain of ids above and including it."""
    found: dict[Key, Node] = {}

    def walk(node: Node, above: Key) -> None:
        ident = node[1].get("id")
        key = (*above, ident) if ident else above
        if ident:
            found[key] = node
        for child in node[3]:
            walk(child, key)

    walk(root, ())
    return found


def _own(node: Node) -> dict[str, str]:
    """An element's attributes, text and id-less descendants, as property path → value."""
    props: dict[str, str] = {}

    def collect(current: Node, path: str) -> None:
        for attribute, value in current[1].items():
            if not (current is node and attribute == "id"):
                props[f"{path}@{_local(attribute)}"] = value
        if current[2]:
            props[f"{path}text"] = current[2]
        counts: dict[str, int] = {}
        for child in current[3]:
            if child[1].get("id"):
                continue  # an item of its own
            local = _local(child[0])
            if local in REFERENCES:  # a set of references: one property per element referred to
                props[f"{path}{local}:{child[2]}"] = child[2]
                continue
            counts[local] = counts.get(local, 0) + 1
            collect(child, f"{path}{local}[{counts[local]}]/")

    collect(node, "")
    return props


def _local(name: str) -> str:
    return etree.QName(name).localname if name.startswith("{") else name


class _Labels:
    """Names and sentences: elements are named as the diagram shows them."""

    def __init__(self, *versions: dict[Key, Node]) -> None:
        self.by_id: dict[str, Node] = {}
        for items in versions:
            for key, node in items.items():
                self.by_id.setdefault(key[-1], node)
        self.columns: dict[str, list[str]] = {}  # decision table id -> input column labels
        for items in versions:
            for key, node in items.items():
                if _local(node[0]) == "decisionTable" and key[-1] not in self.columns:
                    self.columns[key[-1]] = [_column_label(c) for c in node[3] if _local(c[0]) == "input"]
                    self.columns[key[-1]] += [c[1].get("label") or c[1].get("name") or "output"
                                              for c in node[3] if _local(c[0]) == "output"]
        self.rules: dict[str, tuple[str, int]] = {}  # rule id -> (table id, 1-based row)
        for items in reversed(versions):  # the new version's row numbers win
            for key, node in items.items():
                if _local(node[0]) == "decisionTable":
                    rows = [c for c in node[3] if _local(c[0]) == "rule"]
                    self.rules.update({r[1]["id"]: (key[-1], n) for n, r in enumerate(rows, 1)})

    def name(self, ident: str) -> str:
        node = self.by_id.get(ident)
        label = node and (node[1].get("name") or node[1].get("label"))
        kind = TYPES.get(_local(node[0]), _local(node[0])) if node else "Element"
        return f"{kind} '{label}' ({ident})" if label else f"{kind} {ident}"

    def whole(self, file: str, change: str, key: Key, node: Node) -> Change:
        local, ident = _local(node[0]), key[-1]
        if local == "rule" and ident in self.rules:
            table, row = self.rules[ident]
            cells = "; ".join(f"{label}: {text}" for label, text in zip(
                self.columns.get(table, []), _entries(node), strict=False) if text not in ("", "-"))
            return Change(file, change, "rule", ident,
                          f"{self._decision_of(key)}: rule {row} ({ident}) {change}" + (f": {cells}" if cells else ""))
        if local == "formField":
            return Change(file, change, "form-field", ident,
                          f"{self._owner(key)}: form field '{node[1].get('label') or ident}' ({ident}) {change}")
        if _timer_of(node):
            return Change(file, change, "timer", ident, f"{self.name(ident)} {change}, {_timer_of(node)}")
        return Change(file, change, "element", ident, f"{self.name(ident)} {change}")

    def changed(self, file: str, key: Key, node: Node, prop: str, old: str | None, new: str | None) -> Change:
        local, ident = _local(node[0]), key[-1]
        shown_old, shown_new = _shown(old), _shown(new)
        part = _timer_part(prop)
        if part:
            owner = self._timer_owner(key)
            return Change(file, "changed", "timer", owner, f"{self.name(owner)}: {TIMER_PARTS[part]} "
                          f"{_humane(old)} → {_humane(new)}", prop, old, new)
        if local in ("inputEntry", "outputEntry") and len(key) >= 2 and key[-2] in self.rules:
            table, row = self.rules[key[-2]]
            rule = self.by_id.get(key[-2])
            cells = [c for c in rule[3] if _local(c[0]) in ("inputEntry", "outputEntry")] if rule else []
            column = next((n for n, c in enumerate(cells) if c[1].get("id") == ident), 0)
            labels = self.columns.get(table, [])
            label = labels[column] if column < len(labels) else f"column {column + 1}"
            return Change(file, "changed", "cell", ident, f"{self._decision_of(key)}: rule {row} ({key[-2]}), "
                          f"'{label}': {shown_old} → {shown_new}", prop, old, new)
        kind, _, referred = prop.partition(":")
        if kind in REFERENCES and referred:
            return Change(file, "changed", "element", ident, f"{self.name(ident)}: {REFERENCES[kind]} {referred} "
                          f"{'added' if new is not None else 'removed'}", prop, old, new)
        what = _property_name(prop)
        if local == "formField":
            return Change(file, "changed", "form-field", ident, f"{self._owner(key)}: form field "
                          f"'{node[1].get('label') or ident}' ({ident}), {what}: {shown_old} → {shown_new}",
                          prop, old, new)
        return Change(file, "changed", "element", ident, f"{self.name(ident)}: {what} {shown_old} → {shown_new}",
                      prop, old, new)

    def _decision_of(self, key: Key) -> str:
        for ident in reversed(key):
            node = self.by_id.get(ident)
            if node and _local(node[0]) == "decision":
                return self.name(ident)
        return "Decision"

    def _owner(self, key: Key) -> str:
        return self.name(key[-2]) if len(key) >= 2 else "Element"

    def _timer_owner(self, key: Key) -> str:
        """The event a timer definition belongs to (its own id when it has none)."""
        node = self.by_id.get(key[-1])
        if node and _local(node[0]) == "timerEventDefinition" and len(key) >= 2:
            return key[-2]
        return key[-1]


def _column_label(column: Node) -> str:
    if column[1].get("label"):
        return column[1]["label"]
    expression = next((c for c in column[3] if _local(c[0]) == "inputExpression"), None)
    return (expression and next((t[2] for t in expression[3] if t[2]), "")) or "input"


def _entries(rule: Node) -> list[str]:
    return [next((t[2] for t in entry[3] if _local(t[0]) == "text"), "") for entry in rule[3]
            if _local(entry[0]) in ("inputEntry", "outputEntry")]


def _timer_of(node: Node) -> str:
    for child in node[3]:
        if _local(child[0]) == "timerEventDefinition":
            for part in child[3]:
                if _local(part[0]) in TIMER_PARTS:
                    return f"{TIMER_PARTS[_local(part[0])]} {_humane(part[2])}"
    return ""


def _timer_part(prop: str) -> str | None:
    match = re.search(r"(timeDuration|timeDate|timeCycle)\[1\]/text$", prop)
    return match.group(1) if match else None


_PROPERTY_NAMES = {"text": "expression", "conditionExpression[1]/text": "condition",
                   "@candidateGroups": "offered to", "@dueDate": "due", "@priority": "priority",
                   "@decisionRef": "decision", "@calledElement": "calls", "@name": "name", "@label": "label"}


def _property_name(prop: str) -> str:
    if prop in _PROPERTY_NAMES:
        return _PROPERTY_NAMES[prop]
    return prop.replace("@", "").replace("[1]", "").rstrip("/") or "content"


def _shown(value: str | None) -> str:
    return "(none)" if value is None else f"'{value}'"


_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_UNITS = ("year", "month", "week", "day", "hour", "minute", "second")


def _humane(value: str | None) -> str:
    """``P12W`` → ``12 weeks`` (inside an expression too); anything else quoted as written."""
    if value is None:
        return "(none)"

    def spell(match: re.Match[str]) -> str:
        parts = [f"{n} {unit}{'s' if n != '1' else ''}" for n, unit in zip(match.groups(), _UNITS, strict=True) if n]
        return " ".join(parts) or match.group(0)

    plain = _DURATION.match(value.strip())
    if plain:
        return spell(plain)
    return f"'{value}'"
