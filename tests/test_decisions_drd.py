"""Decision requirement graphs (in one file and across files), literal expressions, traces."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.decisions import DecisionRegistry, load_dmn
from engine.problems import ModelError

FIXTURES = Path(__file__).parent / "fixtures" / "dmn"


def load(name: str):
    return load_dmn((FIXTURES / name).read_bytes(), name)


@pytest.fixture(scope="module")
def drd() -> DecisionRegistry:
    return DecisionRegistry([load("pathway_drd.dmn")])


def test_model_lists_decisions_and_input_data(drd: DecisionRegistry) -> None:
    (model,) = drd.models
    assert model.filename == "pathway_drd.dmn"
    assert model.namespace == "http://camunda.org/schema/1.0/dmn"
    assert set(model.decisions) == {"Decision_PainControl", "Decision_ConservativeFailed", "Decision_NextStep",
                                    "Decision_ReviewDate"}
    assert set(model.input_data) == {"vas", "weeksSinceFracture", "neuroDeficit", "fractureDate"}
    assert drd.get("Decision_NextStep").required_inputs == ["neuroDeficit"]


@pytest.mark.parametrize(
    ("vas", "weeks", "neuro", "expected"),
    [
        (6, 13, False, "refer to interventional radiology"),
        (2, 13, False, "continue conservative care"),  # only the bottom decision's input changed
        (6, 8, False, "continue conservative care"),
        (6, 13, True, "urgent surgical consultation"),
    ],
)
def test_three_levels(drd: DecisionRegistry, vas: int, weeks: int, neuro: bool, expected: str) -> None:
    inputs = {"vas": vas, "weeksSinceFracture": weeks, "neuroDeficit": neuro}
    assert drd.evaluate("Next step", inputs).value == expected


def test_trace_has_one_entry_per_decision_in_evaluation_order(drd: DecisionRegistry) -> None:
    result = drd.evaluate("Decision_NextStep", {"vas": "6", "weeksSinceFracture": 13, "neuroDeficit": False})
    assert [t["decision"] for t in result.trace] == [
        "Decision_PainControl", "Decision_ConservativeFailed", "Decision_NextStep"]
    bottom, middle, top = result.trace
    assert bottom["inputs"] == {"VAS": 6} and bottom["matchedRules"] == ["DecisionRule_PcPoor"]
    assert bottom["outputs"] == [{"painControl": "uncontrolled"}]
    assert middle["inputs"] == {"Pain control": "uncontrolled", "Weeks since fracture": 13}
    assert middle["matchedRules"] == ["DecisionRule_CfYes"]
    assert top["inputs"] == {"Neurological deficit": False, "Conservative care failed": True}
    assert top["matchedRules"] == result.matched_rules == ["DecisionRule_NsIr"]
    assert result.to_dict() == {"result": "refer to interventional radiology", "matchedRules": ["DecisionRule_NsIr"]}


def test_middle_decision_by_name(drd: DecisionRegistry) -> None:
    result = drd.evaluate("Conservative care failed", {"vas": 2, "weeksSinceFracture": 20})
    assert result.value is False
    assert result.matched_rules == ["DecisionRule_CfNo"]


def test_literal_expression_decision(drd: DecisionRegistry) -> None:
    result = drd.evaluate("Review date", {"fractureDate": "2025-01-10"})
    assert result.value == "2025-02-21"
    assert result.raw_value == date(2025, 2, 21)
    assert result.matched_rules == []
    assert result.rows == [{"reviewDate": "2025-02-21"}]
    assert result.trace[0]["outputs"] == [{"reviewDate": "2025-02-21"}]


def test_requirement_in_another_file() -> None:
    reg = DecisionRegistry([load("bone_density.dmn"), load("therapy.dmn")])
    assert reg.validate() == []
    result = reg.evaluate("Therapy", {"tScore": -2.7})
    assert result.value == "start bisphosphonate"
    assert [t["decision"] for t in result.trace] == ["Decision_Osteoporosis", "Decision_Therapy"]
    assert reg.evaluate("Therapy", {"tScore": "-1.0"}).value == "lifestyle advice"


def test_requirement_in_a_missing_file_is_reported_by_the_registry() -> None:
    reg = DecisionRegistry([load("therapy.dmn")])  # load_dmn accepts it: the href names another file
    (problem,) = reg.validate()
    assert (problem.file, problem.element) == ("therapy.dmn", "Decision_Therapy")
    assert "bone-density#Decision_Osteoporosis" in problem.message
    with pytest.raises(ModelError):
        reg.evaluate("Therapy", {"tScore": -3})


def test_duplicate_decision_ids_across_files() -> None:
    reg = DecisionRegistry([load("bone_density.dmn")])
    reg.add(load_dmn((FIXTURES / "bone_density.dmn").read_bytes(), "copy.dmn"))
    problems = reg.validate()
    assert any(p.element == "Decision_Osteoporosis" and "duplicate" in p.message for p in problems)
    with pytest.raises(KeyError, match="ambiguous"):
        reg.get("Decision_Osteoporosis")


def test_unknown_decision_message_lists_known_ones(drd: DecisionRegistry) -> None:
    with pytest.raises(KeyError) as caught:
        drd.get("Nope")
    assert "unknown decision 'Nope'" in str(caught.value)
    assert "Decision_NextStep (Next step)" in str(caught.value)


CYCLE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <decision id="A" name="A">
    <informationRequirement id="i1"><requiredDecision href="#B" /></informationRequirement>
    <literalExpression id="la"><text>B + 1</text></literalExpression>
  </decision>
  <decision id="B" name="B">
    <informationRequirement id="i2"><requiredDecision href="#A" /></informationRequirement>
    <literalExpression id="lb"><text>A + 1</text></literalExpression>
  </decision>
</definitions>
"""


def test_requirement_cycle_is_a_model_error() -> None:
    with pytest.raises(ModelError) as caught:
        load_dmn(CYCLE, "cycle.dmn")
    (problem,) = caught.value.problems
    assert problem.file == "cycle.dmn" and "cycle" in problem.message and "A -> B -> A" in problem.message


TYPED_INPUT = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <inputData id="InputData_f" name="fractureDate">
    <variable id="InformationItem_f" name="fractureDate" typeRef="date" />
  </inputData>
  <decision id="Decision_Due" name="Due">
    <variable id="InformationItem_due" name="due" typeRef="date" />
    <informationRequirement id="i1"><requiredInput href="#InputData_f" /></informationRequirement>
    <literalExpression id="LiteralExpression_due"><text>fractureDate + duration("P3M")</text></literalExpression>
  </decision>
  <decision id="Decision_Overdue" name="Overdue">
    <variable id="InformationItem_od" name="overdue" typeRef="boolean" />
    <informationRequirement id="i2"><requiredDecision href="#Decision_Due" /></informationRequirement>
    <literalExpression id="LiteralExpression_od"><text>today() &gt; Due</text></literalExpression>
  </decision>
</definitions>
"""


def test_input_data_type_ref_and_clock() -> None:
    from datetime import UTC, datetime

    from engine.clock import SimulatedClock

    reg = DecisionRegistry([load_dmn(TYPED_INPUT, "typed.dmn")])
    assert reg.evaluate("Due", {"fractureDate": "2025-01-31"}).value == "2025-04-30"  # ISO string -> date
    early = SimulatedClock(datetime(2025, 4, 1, 9, tzinfo=UTC))
    late = SimulatedClock(datetime(2025, 5, 2, 9, tzinfo=UTC))
    assert reg.evaluate("Overdue", {"fractureDate": "2025-01-31"}, clock=early).value is False
    result = reg.evaluate("Overdue", {"fractureDate": "2025-01-31"}, clock=late)
    assert result.value is True
    assert result.trace[-1]["inputs"] == {"Due": "2025-04-30"}
