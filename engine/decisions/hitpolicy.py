"""Hit policies: which matched rules make the result of a decision table, and in which order.

Pure functions over the rules that matched (their outputs already evaluated and coerced), so
they can be tested without a FEEL implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import DecisionError, HitPolicyViolation

UNIQUE = "UNIQUE"
FIRST = "FIRST"
PRIORITY = "PRIORITY"
ANY = "ANY"
COLLECT = "COLLECT"
RULE_ORDER = "RULE ORDER"
OUTPUT_ORDER = "OUTPUT ORDER"

HIT_POLICIES = (UNIQUE, FIRST, PRIORITY, ANY, COLLECT, RULE_ORDER, OUTPUT_ORDER)
SINGLE_HIT = frozenset({UNIQUE, FIRST, PRIORITY, ANY})
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")


def normalize_hit_policy(raw: str | None) -> str | None:
    """The canonical spelling of a ``hitPolicy`` attribute, ``UNIQUE`` when absent, None if unknown."""
    if raw is None or not raw.strip():
        return UNIQUE
    name = " ".join(raw.strip().upper().replace("_", " ").split())
    return name if name in HIT_POLICIES else None


def normalize_aggregation(raw: str | None) -> str | None:
    """The canonical spelling of an ``aggregation`` attribute; '' when absent, None if unknown."""
    if raw is None or not raw.strip():
        return ""
    name = raw.strip().upper()
    return name if name in AGGREGATIONS else None


@dataclass(frozen=True)
class Match:
    """One rule whose input entries all matched, with its evaluated outputs (one per output column)."""

    rule_id: str
    index: int
    outputs: tuple[Any, ...]


@dataclass(frozen=True)
class HitOutcome:
    """The rules selected by the hit policy, in result order, plus the aggregate if there is one."""

    selected: list[Match]
    aggregated: bool = False
    aggregate: Any = None


PriorityKey = Callable[[Match], tuple[int, ...]]


def apply_hit_policy(
    hit_policy: str,
    aggregation: str,
    matches: Sequence[Match],
    priority_key: PriorityKey,
    decision_id: str = "",
) -> HitOutcome:
    """Select and order ``matches`` (given in rule order) as ``hit_policy`` says.

    ``priority_key`` maps a match to a tuple of output-value positions (lower = higher priority);
    it is used by PRIORITY and OUTPUT ORDER.
    """
    matches = list(matches)
    where = f" in decision '{decision_id}'" if decision_id else ""
    if hit_policy == UNIQUE:
        if len(matches) > 1:
            ids = [m.rule_id for m in matches]
            raise HitPolicyViolation(
                f"hit policy UNIQUE violated{where}: {len(ids)} rules matched ({', '.join(ids)})",
                decision_id,
                ids,
            )
        return HitOutcome(matches)
    if hit_policy == ANY:
        if any(m.outputs != matches[0].outputs for m in matches[1:]):
            ids = [m.rule_id for m in matches]
            raise HitPolicyViolation(
                f"hit policy ANY violated{where}: rules {', '.join(ids)} matched with different outputs",
                decision_id,
                ids,
            )
        return HitOutcome(matches[:1])
    if hit_policy == FIRST:
        return HitOutcome(matches[:1])
    if hit_policy == PRIORITY:
        ordered = sorted(matches, key=priority_key)  # stable: ties keep rule order
        return HitOutcome(ordered[:1])
    if hit_policy == OUTPUT_ORDER:
        return HitOutcome(sorted(matches, key=priority_key))
    if hit_policy == RULE_ORDER:
        return HitOutcome(matches)
    if hit_policy == COLLECT:
        if aggregation:
            return HitOutcome(matches, True, aggregate(aggregation, matches, decision_id))
        return HitOutcome(matches)
    raise DecisionError(f"unknown hit policy {hit_policy!r}{where}")


def aggregate(aggregation: str, matches: Sequence[Match], decision_id: str = "") -> Any:
    """COLLECT with SUM/MIN/MAX/COUNT over the first (only) output; null outputs are ignored.

    COUNT of nothing is 0; SUM, MIN and MAX of nothing are null (as in Camunda 7).
    """
    values = [m.outputs[0] for m in matches if m.outputs and m.outputs[0] is not None]
    where = f" in decision '{decision_id}'" if decision_id else ""
    if aggregation == "COUNT":
        return Decimal(len(values))
    if not values:
        return None
    if aggregation == "SUM":
        if not all(_is_number(v) for v in values):
            raise DecisionError(f"COLLECT SUM{where} needs numeric outputs, got {_types(values)}")
        return sum(values, Decimal(0))
    if aggregation in ("MIN", "MAX"):
        try:
            return min(values) if aggregation == "MIN" else max(values)
        except TypeError:
            raise DecisionError(
                f"COLLECT {aggregation}{where} needs comparable outputs, got {_types(values)}"
            ) from None
    raise DecisionError(f"unknown aggregation {aggregation!r}{where}")


def _is_number(value: Any) -> bool:
    return isinstance(value, Decimal | int | float) and not isinstance(value, bool)


def _types(values: Sequence[Any]) -> str:
    return ", ".join(sorted({type(v).__name__ for v in values}))
