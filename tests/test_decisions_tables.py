"""Hit policies, COLLECT aggregations, several outputs and result rows on Camunda Modeler files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from engine.decisions import (
    DecisionError,
    DecisionRegistry,
    HitPolicyViolation,
    apply_result_mapping,
    load_dmn,
)

FIXTURES = Path(__file__).parent / "fixtures" / "dmn"


@pytest.fixture(scope="module")
def reg() -> DecisionRegistry:
    return DecisionRegistry(
        load_dmn((FIXTURES / n).read_bytes(), n) for n in ("hit_policies.dmn", "collect.dmn", "referral.dmn")
    )


def decide(reg: DecisionRegistry, decision: str, **inputs: object) -> tuple[object, list[str]]:
    result = reg.evaluate(decision, inputs)
    return result.value, result.matched_rules


def test_unique_is_the_default(reg: DecisionRegistry) -> None:
    assert reg.get("Decision_Unique").logic.hit_policy == "UNIQUE"
    assert decide(reg, "Decision_Unique", score=3) == ("low", ["DecisionRule_ULow"])
    assert decide(reg, "Unique triage", score=5) == ("medium", ["DecisionRule_UMedium"])


def test_unique_violation_names_the_rules(reg: DecisionRegistry) -> None:
    with pytest.raises(HitPolicyViolation) as caught:
        reg.evaluate("Decision_Unique", {"score": 7})
    assert caught.value.rule_ids == ["DecisionRule_UMedium", "DecisionRule_UHigh"]
    assert "DecisionRule_UMedium" in str(caught.value) and "DecisionRule_UHigh" in str(caught.value)


def test_no_match_gives_null(reg: DecisionRegistry) -> None:
    assert decide(reg, "Decision_Unique", score=None) == (None, [])
    result = reg.evaluate("Decision_Referral", {"vas": None, "fractureDate": None})
    assert (result.value, result.rows) == (None, [])


def test_any(reg: DecisionRegistry) -> None:
    assert decide(reg, "Decision_Any", score=6) == ("yes", ["DecisionRule_AnyYes5"])
    assert decide(reg, "Decision_Any", score=8) == ("yes", ["DecisionRule_AnyYes5"])  # two equal outputs
    with pytest.raises(HitPolicyViolation, match="ANY"):
        reg.evaluate("Decision_Any", {"score": 10})


def test_first(reg: DecisionRegistry) -> None:
    assert decide(reg, "Decision_First", score=9) == ("high", ["DecisionRule_FHigh"])
    assert decide(reg, "Decision_First", score=6) == ("medium", ["DecisionRule_FMedium"])
    assert decide(reg, "Decision_First", score=1) == ("low", ["DecisionRule_FLow"])


def test_priority_follows_output_values_not_rule_order(reg: DecisionRegistry) -> None:
    assert decide(reg, "Decision_Priority", score=9) == ("high", ["DecisionRule_PHigh"])
    assert decide(reg, "Decision_Priority", score=6) == ("medium", ["DecisionRule_PMedium"])
    assert decide(reg, "Decision_Priority", score=1) == ("low", ["DecisionRule_PLow"])


def test_priority_with_two_outputs_compares_outputs_in_order(reg: DecisionRegistry) -> None:
    assert decide(reg, "Decision_Priority2", score=9) == (
        {"urgency": "urgent", "team": "spine"}, ["DecisionRule_P2UrgentSpine"])
    assert decide(reg, "Decision_Priority2", score=6) == (
        {"urgency": "urgent", "team": "physio"}, ["DecisionRule_P2UrgentPhysio"])
    assert decide(reg, "Decision_Priority2", score=1) == (
        {"urgency": "routine", "team": "physio"}, ["DecisionRule_P2RoutinePhysio"])


def test_output_order_and_rule_order(reg: DecisionRegistry) -> None:
    assert decide(reg, "Decision_OutputOrder", score=9) == (
        ["high", "medium", "low"], ["DecisionRule_OOHigh", "DecisionRule_OOMedium", "DecisionRule_OOLow"])
    assert decide(reg, "Decision_OutputOrder", score=6)[0] == ["medium", "low"]
    assert decide(reg, "Decision_RuleOrder", score=9) == (
        ["low", "medium", "high"], ["DecisionRule_ROLow", "DecisionRule_ROMedium", "DecisionRule_ROHigh"])
    assert decide(reg, "Decision_RuleOrder", score=-1) == ([], [])


ALL = {"smoker": True, "steroids": True, "priorFracture": True}
NONE = {"smoker": False, "steroids": False, "priorFracture": False}
TWO = {"smoker": True, "steroids": True, "priorFracture": False}


def test_collect_lists_outputs(reg: DecisionRegistry) -> None:
    assert decide(reg, "Decision_Collect", **ALL) == (
        [1, 2, Decimal("3.5")], ["DecisionRule_CSmoker", "DecisionRule_CSteroids", "DecisionRule_CFracture"])
    assert decide(reg, "Decision_Collect", **NONE) == ([], [])


@pytest.mark.parametrize(
    ("decision", "inputs", "expected"),
    [
        ("Decision_CollectSum", ALL, Decimal("6.5")),
        ("Decision_CollectSum", TWO, 3),
        ("Decision_CollectSum", NONE, None),
        ("Decision_CollectMin", ALL, 1),
        ("Decision_CollectMin", NONE, None),
        ("Decision_CollectMax", ALL, Decimal("3.5")),
        ("Decision_CollectMax", NONE, None),
        ("Decision_CollectCount", ALL, 3),
        ("Decision_CollectCount", TWO, 2),
        ("Decision_CollectCount", NONE, 0),
    ],
)
def test_collect_aggregations(reg: DecisionRegistry, decision: str, inputs: dict, expected: object) -> None:
    result = reg.evaluate(decision, inputs)
    assert result.value == expected
    assert result.rows == [{"points": expected}]
    assert len(result.matched_rules) == sum(bool(v) for v in inputs.values())


def test_collect_with_several_outputs_gives_objects(reg: DecisionRegistry) -> None:
    result = reg.evaluate("Risk factors", {"smoker": True, "steroids": False, "priorFracture": True})
    assert result.value == [{"factor": "smoker", "points": 1}, {"factor": "prior fracture", "points": Decimal("3.5")}]
    assert result.rows == result.value
    assert apply_result_mapping(result.rows, "resultList") == result.value
    with pytest.raises(DecisionError, match="single output"):
        apply_result_mapping(result.rows, "collectEntries")


def test_several_outputs_single_hit(reg: DecisionRegistry) -> None:
    result = reg.evaluate("Decision_Referral", {"vas": 3.5, "fractureDate": "2025-03-01"})
    assert result.value == {"refer": True, "urgency": "routine", "reviewWeeks": 4}
    assert result.matched_rules == ["DecisionRule_ReferRecent"]
    old = reg.evaluate("Decision_Referral", {"vas": "4.0", "fractureDate": "2024-06-01"})
    assert old.value == {"refer": True, "urgency": "soon", "reviewWeeks": None}  # empty output entry
    low = reg.evaluate("Decision_Referral", {"vas": 3, "fractureDate": "2024-06-01"})
    assert low.value == {"refer": False, "urgency": None, "reviewWeeks": 6}
    assert apply_result_mapping(low.rows, "singleResult") == low.value
    assert reg.get("Decision_Referral").logic.rules[0].description == "B5: VAS >= 3.5 at 3 months"


def test_rows_feed_map_decision_result(reg: DecisionRegistry) -> None:
    first = reg.evaluate("Decision_First", {"score": 9})
    assert apply_result_mapping(first.rows, "singleEntry") == "high"
    ordered = reg.evaluate("Decision_OutputOrder", {"score": 9})
    assert apply_result_mapping(ordered.rows, "collectEntries") == ["high", "medium", "low"]
    with pytest.raises(DecisionError, match="at most one"):
        apply_result_mapping(ordered.rows, "singleEntry")
