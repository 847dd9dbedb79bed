"""Safety properties a clinical lead declares next to the diagrams (``pathways/*.safety.yaml``).

Each property has an ``id``, what it ``says`` in clinical words, its ``source``, and one shape:

- **response**: ``after: <event>`` ``expect: <event>`` ``within: P28D`` or ``by: <FEEL date>``
  [``unless: <event>``] — once the first happens, the second must happen by the deadline on every
  path (the deadline is inclusive; a path that ends first violates it);
- **yields**: ``after: <event>`` ``yields: exactly|at least|at most N <event>`` — in the same step;
- **never**: ``never: <event>`` [``unless: <event>``] — allowed only in a step that also has the
  ``unless`` event (e.g. a withdrawal that cancels every open task);
- **precedence**: ``when: <event>`` ``require: <event>`` [``since: <event>``] — the required event
  must have happened (since the last ``since`` event) whenever the ``when`` event happens.

An event is ``<ElementId> ready|starts|completed|cancelled|ends`` (``ends``: completed or
cancelled; ``process:ElementId`` when an id is used in two files), ``message <Name>`` or
``pathway ends``; several joined by ``or``; then optionally ``where <FEEL>`` over the pathway's
variables after the step (e.g. ``UT_Order completed where ordered = true``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import yaml

from .. import feel
from ..analysis import PathwayModel
from ..analysis.feelscan import read_paths
from ..isotime import parse_duration
from ..problems import Problem
from .events import Event

VERBS = {"ready": ("ready",), "starts": ("started",), "completed": ("completed",), "cancelled": ("cancelled",),
         "ends": ("completed", "cancelled")}
SHAPES = ("after", "never", "when")
_COUNT = re.compile(r"^(exactly|at least|at most)\s+(\d+)\s+(.+)$")


class PropertyError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Atom:
    kind: str  # "element", "message", "pathway-ends"
    name: str = ""
    verbs: tuple[str, ...] = ()
    process: str | None = None


@dataclass
class Pattern:
    text: str
    atoms: list[Atom]
    where: Any = None  # compiled FEEL, or None


@dataclass
class StepFacts:
    """What a monitor sees of one step."""

    events: list[Event]
    message: str | None
    ended: bool  # the pathway is no longer running after the step
    variables: dict[str, Any]
    now: datetime
    clock: Any

    def count(self, pattern: Pattern) -> int:
        found = 0
        for atom in pattern.atoms:
            if atom.kind == "message":
                found += int(self.message == atom.name)
            elif atom.kind == "pathway-ends":
                found += int(self.ended)
            else:
                found += sum(1 for e in self.events if e.element == atom.name and e.kind in atom.verbs
                             and (atom.process is None or atom.process == e.process))
        if found and pattern.where is not None and self.evaluate(pattern.where) is not True:
            return 0
        return found

    def evaluate(self, expression: Any) -> Any:
        try:
            return expression.evaluate(self.variables, clock=self.clock)
        except feel.FeelError:
            return None


@dataclass
class Property:
    id: str
    says: str
    source: str
    shape: str  # "response", "yields", "never", "precedence"
    trigger: Pattern  # after / never / when
    target: Pattern | None = None  # expect / yields / require
    unless: Pattern | None = None
    since: Pattern | None = None
    within: Any = None  # IsoDuration
    by: Any = None  # compiled FEEL
    count: tuple[str, int] | None = None
    file: str = ""

    def named(self, kind: str) -> set[str]:
        """The names its events mention of one kind ("element" ids, "message" names)."""
        return {atom.name for pattern in (self.trigger, self.target, self.unless, self.since)
                if pattern is not None for atom in pattern.atoms if atom.kind == kind}

    def placed_reads(self) -> tuple[dict[str, set[str]], set[str]]:
        """Where the property reads what it reads: per element id, the names a where-clause on
        that element's events (and the deadline, computed when the trigger fires) reads; and the
        names read at no one element (a message or "pathway ends"), which are read anywhere."""
        placed: dict[str, set[str]] = {}
        anywhere: set[str] = set()
        for pattern, extra in ((self.trigger, self.by), (self.target, None), (self.unless, None), (self.since, None)):
            if pattern is None:
                continue
            names = set()
            for expression in (pattern.where, extra):
                if expression is not None:
                    names |= {path[0] for path in read_paths(expression.node)}
            if not names:
                continue
            if all(atom.kind == "element" for atom in pattern.atoms):
                for atom in pattern.atoms:
                    placed.setdefault(atom.name, set()).update(names)
            else:
                anywhere |= names
        return placed, anywhere

    @property
    def reads(self) -> set[str]:
        """The pathway variables the property's own expressions read (its where-clauses and its
        deadline): the explorer varies and keeps them as it does what the model reads."""
        found: set[str] = set()
        patterns = (self.trigger, self.target, self.unless, self.since)
        for expression in [p.where for p in patterns if p is not None] + [self.by]:
            if expression is not None:
                found |= {path[0] for path in read_paths(expression.node)}
        return found


@dataclass
class Monitor:
    """The state of every property along one path (part of the explored state)."""

    pending: dict[str, datetime] = field(default_factory=dict)  # response: deadline per property
    seen: dict[str, bool] = field(default_factory=dict)  # precedence: required event since the reset

    def copy(self) -> Monitor:
        return Monitor(dict(self.pending), dict(self.seen))

    def deadlines(self) -> list[datetime]:
        return sorted(self.pending.values())


@dataclass(frozen=True)
class Breach:
    property: Property
    message: str


def observe(properties: list[Property], monitor: Monitor, step: StepFacts) -> list[Breach]:
    """Advance the monitor over one step; return the properties the step breaks."""
    breaches = []
    for prop in properties:
        if prop.shape == "never":
            if step.count(prop.trigger) and not (prop.unless and step.count(prop.unless)):
                breaches.append(Breach(prop, f"'{prop.trigger.text}' happened: {prop.says}"))
        elif prop.shape == "yields":
            if step.count(prop.trigger):
                op, wanted = prop.count
                got = step.count(prop.target)
                ok = got == wanted if op == "exactly" else got >= wanted if op == "at least" else got <= wanted
                if not ok:
                    breaches.append(Breach(prop, f"'{prop.trigger.text}' gave {got} × '{prop.target.text}', "
                                                 f"expected {op} {wanted}: {prop.says}"))
        elif prop.shape == "precedence":
            if prop.since is not None and step.count(prop.since):
                monitor.seen[prop.id] = False
            if step.count(prop.target):
                monitor.seen[prop.id] = True
            if step.count(prop.trigger) and not monitor.seen.get(prop.id):
                breaches.append(Breach(prop, f"'{prop.trigger.text}' without '{prop.target.text}' before it: "
                                             f"{prop.says}"))
        else:
            breaches.extend(_response(prop, monitor, step))
    return breaches


def _response(prop: Property, monitor: Monitor, step: StepFacts) -> list[Breach]:
    if prop.id in monitor.pending and (step.count(prop.target) or (prop.unless and step.count(prop.unless))):
        del monitor.pending[prop.id]
    if prop.id not in monitor.pending and step.count(prop.trigger) and not step.count(prop.target):
        if prop.within is not None:
            deadline = prop.within.add_to(step.now, step.now.tzinfo)
        else:
            value = step.evaluate(prop.by)
            deadline = _instant(value, step)
            if deadline is None:
                return [Breach(prop, f"its deadline '{prop.by.source}' gave {value!r}, not a date")]
        monitor.pending[prop.id] = deadline
    if prop.id in monitor.pending and step.ended:
        return [Breach(prop, f"the pathway ended before '{prop.target.text}': {prop.says}")]
    return []


def overdue(properties: list[Property], monitor: Monitor, now: datetime) -> list[Breach]:
    """Response properties whose deadline has passed by ``now`` without the expected event."""
    by_id = {p.id: p for p in properties}
    return [Breach(by_id[k], f"'{by_id[k].target.text}' had not happened by {d:%Y-%m-%d %H:%M} "
                             f"(deadline {_deadline_text(by_id[k])} after '{by_id[k].trigger.text}'): "
                             f"{by_id[k].says}")
            for k, d in monitor.pending.items() if d < now]


def _deadline_text(prop: Property) -> str:
    return str(prop.within) if prop.within is not None else f"by {getattr(prop.by, 'source', prop.by)}"


def _instant(value: Any, step: StepFacts) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=step.now.tzinfo)
    return None


# -- reading the file ------------------------------------------------------------------------------
def load_for_model(sources: Mapping[str, str], model: PathwayModel) -> list[Property]:
    """The properties of ``*.safety.yaml`` texts, their element ids checked against ``model``."""
    elements: dict[str, set[str]] = {}
    for element in model.elements.values():
        scopes = elements.setdefault(element.id, set())
        scopes.add(element.process)
        if element.scope is not None:
            scopes.add(element.scope.id)
    return load_properties(sorted(sources.items()), elements)


def load_properties(sources: list[tuple[str, str]], elements: dict[str, set[str]]) -> list[Property]:
    """Properties from ``*.safety.yaml`` files given as (file name, text); ``elements`` maps
    element id -> the process and sub-process ids it occurs in."""
    found: list[Property] = []
    problems: list[Problem] = []
    for name, text in sources:
        try:
            document = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            problems.append(Problem(name, "-", f"not valid YAML: {exc}"))
            continue
        if not isinstance(document, dict) or not isinstance(document.get("properties") or [], list):
            problems.append(Problem(name, "-", "a safety file is a mapping with a 'properties' list"))
            continue
        for index, entry in enumerate(document.get("properties") or []):
            try:
                found.append(_property(entry, name, elements))
            except ValueError as exc:
                where = entry.get("id") if isinstance(entry, dict) and entry.get("id") else f"properties[{index}]"
                problems.append(Problem(name, str(where), str(exc)))
    ids = [p.id for p in found]
    problems.extend(Problem(p.file, p.id, "two properties have this id") for p in found if ids.count(p.id) > 1)
    if problems:
        raise PropertyError(problems)
    return found


def _property(entry: Any, filename: str, elements: dict[str, set[str]]) -> Property:
    if not isinstance(entry, dict) or not entry.get("id"):
        raise ValueError("a property needs an id")
    shapes = [k for k in SHAPES if k in entry]
    if len(shapes) != 1:
        raise ValueError("a property has exactly one of 'after', 'never' or 'when'")
    prop = Property(id=str(entry["id"]), says=str(entry.get("says") or ""), source=str(entry.get("source") or ""),
                    shape="", trigger=_pattern(entry[shapes[0]], elements), file=filename)
    if not prop.says:
        raise ValueError("say what the property means clinically ('says')")
    if shapes[0] == "never":
        prop.shape = "never"
        # allowed in a step that also has the 'unless' event (a withdrawal cancelling everything)
        prop.unless = _pattern(entry["unless"], elements) if entry.get("unless") else None
    elif shapes[0] == "when":
        prop.shape = "precedence"
        if "require" not in entry:
            raise ValueError("'when' needs 'require'")
        prop.target = _pattern(entry["require"], elements)
        prop.since = _pattern(entry["since"], elements) if entry.get("since") else None
    elif "yields" in entry:
        prop.shape = "yields"
        match = _COUNT.match(str(entry["yields"]).strip())
        if not match:
            raise ValueError("'yields' reads 'exactly|at least|at most N <event>'")
        prop.count = (match.group(1), int(match.group(2)))
        prop.target = _pattern(match.group(3), elements)
    else:
        prop.shape = "response"
        if "expect" not in entry:
            raise ValueError("'after' needs 'expect' (and 'within' or 'by') or 'yields'")
        prop.target = _pattern(entry["expect"], elements)
        prop.unless = _pattern(entry["unless"], elements) if entry.get("unless") else None
        if ("within" in entry) == ("by" in entry):
            raise ValueError("a response needs exactly one deadline: 'within: <ISO duration>' or 'by: <FEEL date>'")
        if "within" in entry:
            try:
                prop.within = parse_duration(str(entry["within"]))
            except ValueError as exc:
                raise ValueError(f"'within: {entry['within']}' is not an ISO-8601 duration") from exc
        else:
            prop.by = _feel(str(entry["by"]))
    return prop


def _pattern(text: Any, elements: dict[str, set[str]]) -> Pattern:
    raw = str(text).strip()
    head, _, where = raw.partition(" where ")
    atoms = [_atom(part.strip(), elements) for part in re.split(r"\s+or\s+", head) if part.strip()]
    if not atoms:
        raise ValueError(f"'{raw}' names no event")
    return Pattern(raw, atoms, _feel(where) if where.strip() else None)


def _atom(text: str, elements: dict[str, set[str]]) -> Atom:
    if text == "pathway ends":
        return Atom("pathway-ends")
    words = text.split()
    if len(words) == 2 and words[0] == "message":
        return Atom("message", words[1])
    if len(words) != 2 or words[1] not in VERBS:
        raise ValueError(f"'{text}' is not an event: write '<ElementId> {'|'.join(VERBS)}', 'message <Name>' "
                         f"or 'pathway ends'")
    process, _, element = words[0].rpartition(":")
    if element not in elements or (process and process not in elements[element]):
        from ..analysis.names import did_you_mean

        raise ValueError(f"'{words[0]}' is not an element of this pathway" + did_you_mean(element, elements))
    return Atom("element", element, VERBS[words[1]], process or None)


def _feel(text: str) -> Any:
    try:
        return feel.parse_expression(feel.strip_wrapper(text))
    except feel.FeelSyntaxError as exc:
        raise ValueError(f"'{text}' is not valid FEEL: {exc.message}") from exc


def placed_reads(model: Any, properties: list[Property]) -> tuple[dict[Any, set[str]], set[str]]:
    """What the properties read, per element of the model where they read it (by id, in every
    file that has the id), and what they read at no one element (read everywhere)."""
    by_id: dict[str, list[Any]] = {}
    for element in model.elements.values():
        by_id.setdefault(element.id, []).append(element.key)
    placed: dict[Any, set[str]] = {}
    anywhere: set[str] = set()
    for prop in properties:
        at, free = prop.placed_reads()
        anywhere |= free
        for element, names in at.items():
            keys = by_id.get(element)
            if not keys:
                anywhere |= names
            for key in keys or ():
                placed.setdefault(key, set()).update(names)
    return placed, anywhere
