"""Hit policies and COLLECT aggregations on already-evaluated matches (no FEEL needed)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.decisions.errors import DecisionError, HitPolicyViolation
from engine.decisions.hitpolicy import (
    Match,
    apply_hit_policy,
    normalize_aggregation,
    normalize_hit_policy,
)

ORDER = {"high": 0, "medium": 1, "low": 2}


def by_level(match: Match) -> tuple[int, ...]:
    return (ORDER.get(match.outputs[0], len(ORDER)),)


def matches(*levels: str) -> list[Match]:
    return [Match(f"r{n}", n, (level,)) for n, level in enumerate(levels, 1)]


def selected(policy: str, found: list[Match], aggregation: str = "") -> list[str]:
    return [m.rule_id for m in apply_hit_policy(policy, aggregation, found, by_level, "D").selected]


def test_unique_allows_zero_or_one_match() -> None:
    assert selected("UNIQUE", []) == []
    assert selected("UNIQUE", matches("low")) == ["r1"]


def test_unique_with_two_matches_names_both_rules() -> None:
    with pytest.raises(HitPolicyViolation) as caught:
        apply_hit_policy("UNIQUE", "", matches("low", "high"), by_level, "Decision_X")
    assert caught.value.rule_ids == ["r1", "r2"]
    assert "r1" in str(caught.value) and "r2" in str(caught.value) and "Decision_X" in str(caught.value)


def test_any_accepts_equal_outputs_and_refuses_conflicts() -> None:
    assert selected("ANY", [Match("a", 1, (Decimal("1"),)), Match("b", 2, (Decimal("1.0"),))]) == ["a"]
    with pytest.raises(HitPolicyViolation, match="different outputs"):
        apply_hit_policy("ANY", "", matches("low", "high"), by_level)


def test_first_priority_and_orders() -> None:
    found = matches("low", "high", "medium", "high")
    assert selected("FIRST", found) == ["r1"]
    assert selected("PRIORITY", found) == ["r2"]  # first of the two "high" rules
    assert selected("OUTPUT ORDER", found) == ["r2", "r4", "r3", "r1"]
    assert selected("RULE ORDER", found) == ["r1", "r2", "r3", "r4"]
    assert selected("COLLECT", found) == ["r1", "r2", "r3", "r4"]


def test_unlisted_output_values_rank_last() -> None:
    assert selected("PRIORITY", matches("unknown", "low")) == ["r2"]


@pytest.mark.parametrize(
    ("aggregation", "outputs", "expected"),
    [
        ("SUM", [1, 2, Decimal("3.5")], Decimal("6.5")),
        ("MIN", [3, 1, 2], 1),
        ("MAX", [3, 1, 2], 3),
        ("COUNT", [3, 1, 2], 3),
        ("COUNT", [], 0),
        ("SUM", [], None),
        ("MIN", [], None),
        ("MAX", [], None),
        ("COUNT", [1, None], 1),
        ("SUM", [None, 2], 2),
    ],
)
def test_aggregations(aggregation: str, outputs: list, expected: object) -> None:
    found = [Match(f"r{n}", n, (None if v is None else Decimal(v),)) for n, v in enumerate(outputs, 1)]
    outcome = apply_hit_policy("COLLECT", aggregation, found, by_level)
    assert outcome.aggregated
    assert outcome.aggregate == (None if expected is None else Decimal(expected))


def test_sum_of_strings_is_a_decision_error() -> None:
    with pytest.raises(DecisionError, match="SUM"):
        apply_hit_policy("COLLECT", "SUM", matches("low", "high"), by_level)


def test_min_of_mixed_types_is_a_decision_error() -> None:
    with pytest.raises(DecisionError, match="MIN"):
        apply_hit_policy("COLLECT", "MIN", [Match("a", 1, ("x",)), Match("b", 2, (Decimal(1),))], by_level)


def test_attribute_spellings() -> None:
    assert normalize_hit_policy(None) == "UNIQUE"
    assert normalize_hit_policy("rule order") == "RULE ORDER"
    assert normalize_hit_policy("OUTPUT_ORDER") == "OUTPUT ORDER"
    assert normalize_hit_policy("SOMETIMES") is None
    assert normalize_aggregation(None) == ""
    assert normalize_aggregation("count") == "COUNT"
    assert normalize_aggregation("AVG") is None
