"""Gateways that can leave a patient with no way on.

- An exclusive (or inclusive) gateway without a default flow whose conditions can all be false
  or null: every combination of the values its conditions read (each allowed value, null where
  the variable may be unset, each side of every number they compare) is tried, and one that
  takes no flow is reported.
- A default flow that leads back to its gateway without a wait (a user task, a timer or message,
  a sub-process) would spin for ever.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .. import feel
from ..clock import SimulatedClock
from ..problems import Problem
from .dataflow import Dataflow
from .feelscan import PathT
from .model import BPMN, Element, PathwayModel
from .names import shape_of

_MAX_COMBINATIONS = 4096
_WAITS = {"userTask", "receiveTask", "intermediateCatchEvent", "eventBasedGateway", "subProcess", "callActivity",
          "manualTask", "transaction"}
# Conditions that need "now" are judged at a fixed instant: only the shape of the answer matters.
_CLOCK = SimulatedClock(datetime(2000, 1, 1, tzinfo=UTC))


def _domain(model: PathwayModel, path: PathT, numbers: set[Decimal], may_be_unset: bool) -> list[Any] | None:
    shape = shape_of(model, path[0])
    for key in path[1:]:
        shape = shape.member(key) if shape is not None else None
    if shape is None or shape.kind != "value":
        return None
    nulls = [None] if (may_be_unset or shape.nullable) else []
    if shape.values is not None:
        return sorted(shape.values) + nulls
    if shape.type == "boolean":
        return [True, False, *nulls]
    if shape.type in ("long", "double", "number", "integer") and numbers:
        points = sorted({n + d for n in numbers for d in (Decimal(-1), Decimal(0), Decimal(1))})
        return [*points, *nulls]
    return None


def _context(assignment: dict[PathT, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for path, value in assignment.items():
        target = context
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value
    return context


def _describe(assignment: dict[PathT, Any]) -> str:
    def text(value: Any) -> str:
        return "null" if value is None else f'"{value}"' if isinstance(value, str) else str(value).lower() \
            if isinstance(value, bool) else str(value)
    return " and ".join(f"{'.'.join(p)} = {text(v)}" for p, v in sorted(assignment.items()))


def check_gateways(model: PathwayModel, flow: Dataflow) -> list[Problem]:
    problems: list[Problem] = []
    for gateway in model.elements.values():
        if gateway.tag not in ("exclusiveGateway", "inclusiveGateway"):
            continue
        outgoing = model.outgoing(gateway)
        if len(outgoing) < 1:
            continue
        default = gateway.node.get("default")
        if default:
            problems.extend(_default_loop(model, gateway, default))
            continue
        conditions = []
        for item in outgoing:
            cond = item.node.find(f"{{{BPMN}}}conditionExpression")
            if cond is None or not (cond.text or "").strip():
                break  # an unconditional flow is always taken; lint reports a missing condition
            try:
                conditions.append(feel.parse_expression(feel.strip_wrapper(cond.text)))
            except feel.FeelSyntaxError:
                break
        else:
            problem = _uncovered(model, flow, gateway, conditions)
            if problem:
                problems.append(problem)
    return problems


def _uncovered(model: PathwayModel, flow: Dataflow, gateway: Element, conditions: list[Any]) -> Problem | None:
    reads = [r for r in model.reads if r.what == "condition" and r.at is gateway]
    paths = sorted({p for r in reads for p in r.paths})
    numbers: dict[PathT, set[Decimal]] = {}
    for read in reads:
        for c in read.comparisons:
            if isinstance(c.value, Decimal):
                numbers.setdefault(c.path, set()).add(c.value)
    reach = flow.reach(gateway)
    domains = []
    for path in paths:
        domain = _domain(model, path, numbers.get(path, set()), path[0] not in reach.must)
        if domain is None:
            return None  # a value we cannot enumerate: nothing to prove here
        domains.append(domain)
    if not paths or _size(domains) > _MAX_COMBINATIONS:
        return None
    for values in itertools.product(*domains):
        assignment = dict(zip(paths, values, strict=True))
        context = _context(assignment)
        if not any(_true(c, context) for c in conditions):
            return Problem(gateway.file, gateway.id,
                           f"no outgoing flow is taken when {_describe(assignment)}, and the gateway has no default "
                           f"flow: the patient would be stuck here; add a default flow or a condition for it")
    return None


def _size(domains: list[list[Any]]) -> int:
    size = 1
    for domain in domains:
        size *= len(domain)
    return size


def _true(expression: Any, context: dict[str, Any]) -> bool:
    try:
        return expression.evaluate(context, clock=_CLOCK) is True
    except feel.FeelError:
        return False


def _default_loop(model: PathwayModel, gateway: Element, default: str) -> list[Problem]:
    start = model.flows.get((gateway.file, default))
    if start is None:
        return []
    seen = set()
    todo = [start[1]]
    while todo:
        key = todo.pop()
        if key == gateway.key:
            return [Problem(gateway.file, gateway.id,
                            f"the default flow '{default}' leads back to this gateway with no user task, timer or "
                            f"message on the way: when no condition holds the pathway would loop for ever")]
        if key in seen:
            continue
        seen.add(key)
        element = model.elements.get(key)
        if element is None or element.tag in _WAITS:
            continue
        todo.extend(model.succ.get(key, []))
    return []
