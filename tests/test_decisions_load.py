"""load_dmn: every problem reported with file, element id and message; DMN 1.1/1.2/1.3 namespaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.decisions import DecisionRegistry, load_dmn
from engine.problems import ModelError

FIXTURES = Path(__file__).parent / "fixtures" / "dmn"


def problems_of(source: bytes | str, filename: str = "f.dmn") -> list:
    with pytest.raises(ModelError) as caught:
        load_dmn(source, filename)
    return caught.value.problems


@pytest.fixture(scope="module")
def broken() -> list:
    return problems_of((FIXTURES / "broken.dmn").read_bytes(), "broken.dmn")


def find(problems: list, fragment: str):
    found = [p for p in problems if fragment in p.message]
    assert found, f"no problem mentions {fragment!r}: {[str(p) for p in problems]}"
    return found[0]


def test_bad_input_cell_names_file_rule_entry_and_position(broken: list) -> None:
    problem = find(broken, "DecisionRule_BadRange")
    assert problem.file == "broken.dmn"
    assert problem.element.startswith("UnaryTests_")
    assert "[1..5" in problem.message and "position" in problem.message
    assert str(problem).startswith(f"broken.dmn:{problem.element}: ")


def test_bad_output_entry(broken: list) -> None:
    problem = find(broken, "DecisionRule_BadOutput")
    assert problem.element.startswith("LiteralExpression_")
    assert "output 'level'" in problem.message and "position" in problem.message


def test_every_other_problem_is_listed_too(broken: list) -> None:
    assert find(broken, "SOMETIMES").element == "DecisionTable_BadPolicy"
    assert find(broken, "numbr").element == "InputExpression_bpscore"
    assert find(broken, "values order").element == "UnaryTests_ovbplevel"
    assert find(broken, "#Decision_Missing").element == "Decision_BadPolicy"
    assert not [p for p in broken if "DecisionRule_Fine" in p.message]
    assert len(broken) == 6


def test_not_xml() -> None:
    (problem,) = problems_of(b"<definitions", "x.dmn")
    assert problem.file == "x.dmn" and "XML" in problem.message


def test_not_dmn() -> None:
    bpmn = '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_1"/>'
    (problem,) = problems_of(bpmn, "p.bpmn")
    assert problem.element == "Defs_1" and "not a DMN file" in problem.message


TABLE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{ns}" id="defs" name="Legacy" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="Decision_Level" name="Level">
    <decisionTable id="DecisionTable_Level"{policy}>
      <input id="Input_1" label="Score">
        <inputExpression id="InputExpression_1" typeRef="{number}"><text>score</text></inputExpression>
      </input>
      <output id="Output_1" name="level" typeRef="string" />
      <rule id="Rule_High">
        <inputEntry id="UnaryTests_1"><text>&gt;= 5</text></inputEntry>
        <outputEntry id="LiteralExpression_1"><text>"high"</text></outputEntry>
      </rule>
      <rule id="Rule_Low">
        <inputEntry id="UnaryTests_2"><text>&lt; 5</text></inputEntry>
        <outputEntry id="LiteralExpression_2"><text>"low"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.mark.parametrize(
    ("ns", "version", "number"),
    [
        ("http://www.omg.org/spec/DMN/20151101/dmn.xsd", "1.1", "integer"),
        ("http://www.omg.org/spec/DMN/20180521/MODEL/", "1.2", "double"),
        ("https://www.omg.org/spec/DMN/20191111/MODEL/", "1.3", "number"),
    ],
)
def test_dmn_versions(ns: str, version: str, number: str) -> None:
    model = load_dmn(TABLE.format(ns=ns, policy="", number=number), "legacy.dmn")
    assert model.dmn_version == version
    result = DecisionRegistry([model]).evaluate("Level", {"score": 7})
    assert (result.value, result.matched_rules) == ("high", ["Rule_High"])


def test_unknown_aggregation_and_aggregation_without_collect() -> None:
    ns = "https://www.omg.org/spec/DMN/20191111/MODEL/"
    problems = problems_of(TABLE.format(ns=ns, policy=' hitPolicy="COLLECT" aggregation="AVG"', number="number"))
    assert find(problems, "AVG").element == "DecisionTable_Level"
    problems = problems_of(TABLE.format(ns=ns, policy=' hitPolicy="FIRST" aggregation="SUM"', number="number"))
    assert find(problems, "only allowed with hit policy COLLECT").element == "DecisionTable_Level"


def test_priority_without_output_values() -> None:
    ns = "https://www.omg.org/spec/DMN/20191111/MODEL/"
    problems = problems_of(TABLE.format(ns=ns, policy=' hitPolicy="PRIORITY"', number="number"))
    assert "outputValues" in find(problems, "PRIORITY").message


def test_output_literal_that_does_not_fit_its_type_ref() -> None:
    ns = "https://www.omg.org/spec/DMN/20191111/MODEL/"
    source = TABLE.format(ns=ns, policy="", number="number").replace('typeRef="string"', 'typeRef="number"')
    problems = problems_of(source)
    assert [p.element for p in problems] == ["LiteralExpression_1", "LiteralExpression_2"]
    assert "Rule_High" in problems[0].message


def test_bad_input_expression_and_unsupported_language() -> None:
    ns = "https://www.omg.org/spec/DMN/20191111/MODEL/"
    source = TABLE.format(ns=ns, policy="", number="number").replace("<text>score</text>", "<text>score +</text>")
    (problem,) = problems_of(source)
    assert problem.element == "InputExpression_1" and "position" in problem.message
    juel = TABLE.format(ns=ns, policy="", number="number").replace(
        'id="InputExpression_1"', 'id="InputExpression_1" expressionLanguage="juel"')
    (problem,) = problems_of(juel)
    assert problem.element == "InputExpression_1" and "juel" in problem.message


def test_str_source_with_encoding_declaration() -> None:
    ns = "https://www.omg.org/spec/DMN/20191111/MODEL/"
    model = load_dmn(TABLE.format(ns=ns, policy="", number="number"), "s.dmn")
    assert list(model.decisions) == ["Decision_Level"]


def test_camunda_input_variable_and_allowed_values() -> None:
    ns = "https://www.omg.org/spec/DMN/20191111/MODEL/"
    source = TABLE.format(ns=ns, policy=' hitPolicy="FIRST"', number="number").replace(
        '<input id="Input_1" label="Score">',
        '<input id="Input_1" label="Score" xmlns:camunda="http://camunda.org/schema/1.0/dmn" '
        'camunda:inputVariable="s"><inputValues id="UnaryTests_iv"><text>[0..10]</text></inputValues>',
    ).replace("<text>&gt;= 5</text>", "<text>s &gt;= 5</text>")
    model = load_dmn(source, "iv.dmn")
    clause = model.decisions["Decision_Level"].logic.inputs[0]
    assert (clause.input_variable, clause.input_values_text) == ("s", "[0..10]")
    reg = DecisionRegistry([model])
    assert reg.evaluate("Level", {"score": 6}).value == "high"
    assert reg.evaluate("Level", {"score": 4}).value == "low"
    (problem,) = problems_of(source.replace("[0..10]", "[0..10"))
    assert problem.element == "UnaryTests_iv" and "allowed values" in problem.message
