"""Decisive answers: the values of each form field, message variable and start input that the
model's decisions and conditions tell apart.

- a boolean: true and false; an enum: each option; a text compared with literals: each literal
  and one other text; anything nothing compares: one value;
- a number: for every threshold a condition or DMN rule tests on it, just below, at and just
  above it (within the field's min/max);
- a date: today, and for every threshold on a number a literal decision derives from it and
  today (e.g. days since an MI), the dates just before, at and after the crossing;
- null, when the answer may be left out.

A task is completed with its *base* answer (each field's first class, or its default) and with
each other class of each field, one field at a time; fields that one decision input expression
combines (e.g. a therapy class and an agent that must agree) are also tried in every combination.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..analysis import PathwayModel
from ..analysis.model import CAMUNDA, NS
from ..clock import SimulatedClock
from ..decisions import Decision, LiteralExpression
from ..feel.nodes import free_names

_UNSET = object()
_MAX_DAYS = 366 * 30
_MAX_TOGETHER = 128  # combinations tried for fields one decision input combines


@dataclass(frozen=True)
class Field:
    id: str
    type: str
    required: bool
    options: tuple[str, ...]
    minimum: Decimal | None
    maximum: Decimal | None
    has_default: bool


class Domains:
    def __init__(self, model: PathwayModel) -> None:
        self.model = model
        self.read = {path[0] for read in model.reads for path in read.paths}
        self.numbers: dict[str, set[Decimal]] = {}
        self.literals: dict[str, set[Any]] = {}
        # names every read of which only compares them with literals: their class is their value
        self.opaque = {path[0] for read in model.reads for path in read.opaque}
        self.opaque_paths = {path for read in model.reads for path in read.opaque}
        self.read_paths: dict[str, set[tuple[str, ...]]] = {}
        self.path_tests: dict[tuple[str, ...], set[tuple[str, Any]]] = {}
        for read in model.reads:
            for path in read.paths:
                self.read_paths.setdefault(path[0], set()).add(path)
            for comparison in read.comparisons:
                self.path_tests.setdefault(comparison.path, set()).add((comparison.op, comparison.value))
        for read in model.reads:
            for comparison in read.comparisons:
                if len(comparison.path) != 1:
                    continue
                name, value = comparison.path[0], comparison.value
                if isinstance(value, Decimal):
                    self.numbers.setdefault(name, set()).add(value)
                elif value is not None:
                    self.literals.setdefault(name, set()).add(value)
        self._derived, crossed_by = self._derived_dates()
        self.date_caps = self._date_caps(crossed_by)
        # names a decision input combines: answered together, all their combinations are tried
        self.together = sorted({group for read in model.reads for group in read.together}, key=sorted)

    # -- classes -------------------------------------------------------------------------------
    def abstract(self, name: str, value: Any) -> Any:
        """What the model can tell of a variable's value: for every path it reads (``triage``,
        ``triage.triageCategory``), the value there when some read uses it as it is, else only
        the outcome of each comparison the model makes on it with a literal."""
        paths = self.read_paths.get(name) or {(name,)}
        if (name,) in self.opaque_paths:
            return value
        return tuple(sorted(((path, self._at(path, _walk(value, path[1:]))) for path in paths), key=repr))

    def _at(self, path: tuple[str, ...], value: Any) -> Any:
        if path in self.opaque_paths or any(p[:len(path)] == path and p != path for p in self.opaque_paths):
            return freeze(value)
        tests = sorted(self.path_tests.get(path, ()), key=repr)
        return tuple(_test(op, literal, value) for op, literal in tests)

    def classes(self, field: Field, today: date, relevant: set[str] | None = None) -> list[Any]:
        """Representative values of a field, the base (first) one first; null last when allowed.
        A field no read (or none of ``relevant``) tells apart gets one value."""
        read = field.id in self.read and (relevant is None or field.id in relevant)
        values = self._values(field, today) if read else []
        values = values or [self._neutral(field, today)]
        if not field.required and not field.has_default and read:
            values.append(None)
        return values

    def _values(self, field: Field, today: date) -> list[Any]:
        kind = field.type
        if kind == "boolean":
            return [False, True]
        if kind == "enum":
            return list(field.options)
        if kind in ("long", "double"):
            step = Decimal(1) if kind == "long" else Decimal("0.1")
            points = sorted({t + d for t in self.numbers.get(field.id, ()) for d in (-step, Decimal(0), step)})
            points = [p for p in points if (field.minimum is None or p >= field.minimum)
                      and (field.maximum is None or p <= field.maximum)
                      and (kind != "long" or p == p.to_integral_value())]
            return [int(p) if kind == "long" else float(p) for p in points]
        if kind == "date":
            # A required date records an event as it happens (today); an optional one is history
            # (a last dose, an MI) whose distance from today a "time since" decision may test.
            offsets = sorted(self._derived.get(field.id, set())) if not field.required else []
            return [today.isoformat()] + [(today - timedelta(days=k)).isoformat() for k in offsets if k]
        literals = sorted(v for v in self.literals.get(field.id, ()) if isinstance(v, str))
        return [*literals, "other"] if literals else []

    def _neutral(self, field: Field, today: date) -> Any:
        if field.type == "boolean":
            return False
        if field.type == "enum":
            return field.options[0] if field.options else "unknown"
        if field.type in ("long", "double"):
            low = field.minimum if field.minimum is not None else Decimal(1)
            return int(low) if field.type == "long" else float(low)
        if field.type == "date":
            return today.isoformat()
        return "recorded"

    def variable_classes(self, name: str) -> list[Any]:
        """Values to send for a message variable or an untyped input: what it is compared with."""
        literals = self.literals.get(name, set())
        if literals and all(isinstance(v, bool) for v in literals):
            return [True, False]
        strings = sorted(v for v in literals if isinstance(v, str))
        if strings:
            return strings
        numbers = self.numbers.get(name)
        if numbers:
            return sorted({float(t + d) for t in numbers for d in (Decimal(-1), Decimal(0), Decimal(1))})
        return [True]

    def input_classes(self, name: str) -> list[Any] | None:
        """One value per class of a variable, null included, as the model's comparisons split it;
        None when nothing compares it with a literal (a date, a record): its classes are unknown."""
        literals = self.literals.get(name, set())
        numbers = self.numbers.get(name, set())
        if not literals and not numbers:
            return None
        values: list[Any] = [None]
        if any(isinstance(v, bool) for v in literals):
            values += [True, False]
        values += sorted(v for v in literals if isinstance(v, str)) + ["other"] * bool(
            any(isinstance(v, str) for v in literals))
        values += sorted({t + d for t in numbers for d in (Decimal(-1), Decimal("-0.1"), Decimal(0),
                                                           Decimal("0.1"), Decimal(1))})
        return values

    def input_values(self, name: str) -> list[Any]:
        """The literals a declared enrolment input is compared with (no value is the other case)."""
        return sorted((v for v in self.literals.get(name, set()) if isinstance(v, str | Decimal)), key=str)

    # -- dates read through "days/months since" decisions ----------------------------------------
    def _derived_dates(self) -> tuple[dict[str, set[int]], dict[str, set[str]]]:
        """For each date name: day offsets where a literal decision reading it and today() crosses a
        threshold some table tests (one day before, at and after each crossing); and the decisions
        whose crossings those are."""
        found: dict[str, set[int]] = {}
        crossed_by: dict[str, set[str]] = {}
        for decision in self.model.decisions.decisions():
            logic = decision.logic
            if not isinstance(logic, LiteralExpression) or "today" not in logic.text:
                continue
            thresholds = self.numbers.get(decision.variable_name)
            if not thresholds:
                continue
            for name in free_names(logic.expression.node):
                for threshold in thresholds:
                    crossing = _crossing(decision, name, threshold)
                    if crossing is not None:
                        found.setdefault(name, set()).update({crossing - 1, crossing, crossing + 1})
                        crossed_by.setdefault(name, set()).add(decision.id)
        return found, crossed_by

    def _date_caps(self, crossed_by: dict[str, set[str]]) -> dict[str, int]:
        """Dates read only by "time since" decisions whose every threshold is known: the number of
        days past which the date is beyond every crossing, so that any older date decides the same
        now and at any later instant (the time since only grows). A date anything else reads (a
        timer, a condition, another decision) keeps its exact distance."""
        readers: dict[str, set[str | None]] = {}
        for read in self.model.reads:
            if read.what in _NO_CONTROL:
                continue  # a due or follow-up date is shown, never branched on
            decision = read.element.attr("decisionRef") if read.element.tag == "businessRuleTask" else None
            for path in read.paths:
                readers.setdefault(path[0], set()).add(decision)
        return {name: max(self._derived[name]) for name, deciders in crossed_by.items()
                if readers.get(name, set()) <= deciders}


_NO_CONTROL = ("camunda:dueDate", "camunda:followUpDate")


def freeze(value: Any) -> Any:
    """A value as a hashable key part: records and lists as tuples."""
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def _walk(value: Any, keys: tuple[str, ...]) -> Any:
    """FEEL path access: a context's key, or the list of it over a list of contexts."""
    for key in keys:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list):
            value = [item.get(key) if isinstance(item, dict) else None for item in value]
        else:
            return None
    return value


def _test(op: str, literal: Any, value: Any) -> Any:
    """The outcome of ``value op literal`` as the model would see it (None when undecided)."""
    if op == "contains":
        return isinstance(value, list) and literal in value
    if op == "starts with":
        return isinstance(value, str) and isinstance(literal, str) and value.startswith(literal)
    if value is None or literal is None:
        return (value is None) == (literal is None) if op == "=" else (value is None) != (literal is None) \
            if op == "!=" else None
    try:
        left = Decimal(str(value)) if isinstance(literal, Decimal) and not isinstance(value, bool) else value
        return {"=": left == literal, "!=": left != literal, "<": left < literal, "<=": left <= literal,
                ">": left > literal, ">=": left >= literal}[op]
    except (TypeError, ArithmeticError, KeyError):
        return None


def _crossing(decision: Decision, name: str, threshold: Decimal) -> int | None:
    """The smallest number of days ago at which the decision's value reaches the threshold."""
    clock = SimulatedClock(datetime(2030, 1, 15, 12, tzinfo=UTC))
    today = clock.today()

    def value(days: int) -> Decimal | None:
        try:
            result = decision.logic.expression.evaluate({name: today - timedelta(days=days)}, clock=clock)
        except Exception:  # noqa: BLE001 - a decision that needs other inputs tells us nothing
            return None
        return result if isinstance(result, Decimal) else None

    low, high = 0, _MAX_DAYS
    first, last = value(low), value(high)
    if first is None or last is None or not (first < threshold <= last):
        return None
    while low + 1 < high:
        middle = (low + high) // 2
        current = value(middle)
        if current is None:
            return None
        if current >= threshold:
            high = middle
        else:
            low = middle
    return high


def form_fields(model: PathwayModel, element_id: str) -> list[Field]:
    """The typed fields of a user task (or start event) form, by element id."""
    for element in model.elements.values():
        if element.id == element_id and element.tag in ("userTask", "startEvent"):
            return [_field(node) for node in model.form_fields(element) if node.get("id")]
    return []


def _field(node: Any) -> Field:
    constraints = {c.get("name"): c.get("config") for c in node.iterfind("camunda:validation/camunda:constraint", NS)}
    options = tuple(v.get("id") for v in node.findall(f"{{{CAMUNDA}}}value"))

    def number(key: str) -> Decimal | None:
        try:
            return Decimal(constraints[key]) if constraints.get(key) is not None else None
        except ArithmeticError:
            return None

    return Field(node.get("id"), node.get("type") or "string", "required" in constraints, options,
                 number("min"), number("max"), bool(node.get("defaultValue")))


def answer_variants(domains: Domains, fields: list[Field], today: date, defaults: dict[str, Any],
                    relevant: set[str] | None = None) -> list[dict[str, Any]]:
    """The base answer, then each other decisive value of each field, one field at a time. A field
    with a default is left out of the base (the default applies) and varied like the others."""
    classes = {f.id: domains.classes(f, today, relevant) for f in fields}
    base: dict[str, Any] = {}
    for field in fields:
        if field.id in defaults:
            continue
        base[field.id] = classes[field.id][0]
    variants = [base]
    for field in fields:
        for value in classes[field.id]:
            current = base.get(field.id, _UNSET)
            if value == current and field.id not in defaults:
                continue
            if value is None and field.id in defaults:
                continue  # leaving it out takes the default: that is the base
            variant = _with(base, {field.id: value})
            if variant not in variants:
                variants.append(variant)
    # fields one decision input combines (a class and an agent that must agree): one at a time
    # never gives a consistent pair, so every combination of their classes is tried too
    ids = {f.id for f in fields}
    for group in domains.together:
        names = sorted(group & ids)
        if len(names) < 2:
            continue
        combos = [{}]
        for name in names:
            combos = [{**c, name: v} for c in combos for v in classes[name]]
        for combo in combos[:_MAX_TOGETHER]:
            variant = _with(base, combo)
            if variant not in variants:
                variants.append(variant)
    return variants


def _with(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The base answer with these fields changed; ``None`` leaves a field out."""
    variant = dict(base)
    for name, value in changes.items():
        if value is None:
            variant.pop(name, None)
        else:
            variant[name] = value
    return variant
