"""run_decide_command: the `pathway decide` contract (exit codes 0/2 and the JSON it prints)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from engine.clock import SimulatedClock
from engine.decisions import run_decide_command

FIXTURES = Path(__file__).parent / "fixtures" / "dmn"
HIT = str(FIXTURES / "hit_policies.dmn")
COLLECT = str(FIXTURES / "collect.dmn")
DRD = str(FIXTURES / "pathway_drd.dmn")


def ok(files: list[str], decision: str, inputs: str) -> dict:
    code, out = run_decide_command(files, decision, inputs, clock=SimulatedClock())
    assert code == 0, out
    return json.loads(out, parse_float=Decimal)


def fails(files: list[str], decision: str, inputs: str) -> str:
    code, out = run_decide_command(files, decision, inputs)
    assert code == 2, out
    assert out.strip()
    return out


def test_single_output_value_by_id_and_by_name() -> None:
    assert ok([HIT], "Decision_Priority", '{"score": 9}') == {"result": "high", "matchedRules": ["DecisionRule_PHigh"]}
    assert ok([HIT], "Priority triage", '{"score": 6.0}')["result"] == "medium"


def test_no_match_is_null() -> None:
    assert ok([HIT], "Decision_Unique", '{"score": null}') == {"result": None, "matchedRules": []}


def test_lists_objects_and_aggregates() -> None:
    assert ok([HIT], "Decision_OutputOrder", '{"score": 9}')["result"] == ["high", "medium", "low"]
    assert ok([HIT], "Decision_Priority2", '{"score": 9}')["result"] == {"urgency": "urgent", "team": "spine"}
    everything = '{"smoker": true, "steroids": true, "priorFracture": true}'
    assert ok([COLLECT], "Decision_CollectCount", '{"smoker": false, "steroids": false, "priorFracture": false}') == {
        "result": 0, "matchedRules": []}
    assert ok([COLLECT], "Decision_Collect", everything)["result"] == [1, 2, Decimal("3.5")]


def test_decimals_are_json_numbers() -> None:
    code, out = run_decide_command([COLLECT], "Decision_CollectSum", '{"smoker": true, "steroids": true, '
                                   '"priorFracture": true}')
    assert code == 0
    assert json.loads(out)["result"] == 6.5
    assert '"result": 6.5' in out


def test_drd_and_dates_across_files() -> None:
    inputs = '{"vas": 7, "weeksSinceFracture": 12, "neuroDeficit": false, "fractureDate": "2025-01-10"}'
    assert ok([DRD], "Next step", inputs)["result"] == "refer to interventional radiology"
    assert ok([DRD], "Decision_ReviewDate", inputs)["result"] == "2025-02-21"
    files = [str(FIXTURES / "bone_density.dmn"), str(FIXTURES / "therapy.dmn")]
    assert ok(files, "Therapy", '{"tScore": -2.5}') == {"result": "start bisphosphonate",
                                                       "matchedRules": ["DecisionRule_ThYes"]}


def test_model_error_lists_file_and_element() -> None:
    out = fails([HIT, str(FIXTURES / "broken.dmn")], "Decision_Priority", '{"score": 9}')
    assert "broken.dmn:DecisionTable_BadPolicy:" in out
    assert "DecisionRule_BadRange" in out


def test_missing_requirement_file() -> None:
    out = fails([str(FIXTURES / "therapy.dmn")], "Therapy", '{"tScore": -3}')
    assert "Decision_Osteoporosis" in out


def test_bad_input_json() -> None:
    assert "JSON" in fails([HIT], "Decision_First", '{"score": ')
    assert "object" in fails([HIT], "Decision_First", "[1, 2]")


def test_unknown_decision() -> None:
    assert "unknown decision 'Nope'" in fails([HIT], "Nope", "{}")


def test_hit_policy_violations() -> None:
    out = fails([HIT], "Decision_Unique", '{"score": 7}')
    assert "UNIQUE" in out and "DecisionRule_UMedium" in out and "DecisionRule_UHigh" in out
    assert "ANY" in fails([HIT], "Decision_Any", '{"score": 10}')


def test_input_that_does_not_fit_its_type() -> None:
    assert "Score" in fails([HIT], "Decision_First", '{"score": "high"}')


def test_missing_file() -> None:
    assert "cannot read" in fails([str(FIXTURES / "nope.dmn")], "X", "{}")
