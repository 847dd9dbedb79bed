"""Read a ``decisionTable`` element: input and output clauses, rules, hit policy, aggregation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import feelc
from .hitpolicy import COLLECT, OUTPUT_ORDER, PRIORITY, normalize_aggregation, normalize_hit_policy
from .model import DecisionTable, InputClause, InputEntry, OutputClause, OutputEntry, Rule

if TYPE_CHECKING:
    from .dmnxml import _Reader

CAMUNDA_NS = "http://camunda.org/schema/1.0/dmn"


def read_table(reader: _Reader, element: Any, decision_id: str, variable_name: str) -> DecisionTable:
    table_id = element.get("id") or decision_id
    raw_policy = element.get("hitPolicy")
    hit_policy = normalize_hit_policy(raw_policy)
    if hit_policy is None:
        reader.problem(table_id, f"unknown hit policy '{raw_policy}' (expected UNIQUE, FIRST, PRIORITY, ANY, "
                                 "COLLECT, RULE ORDER or OUTPUT ORDER)")
        hit_policy = "UNIQUE"
    raw_aggregation = element.get("aggregation")
    aggregation = normalize_aggregation(raw_aggregation)
    if aggregation is None:
        reader.problem(table_id, f"unknown aggregation '{raw_aggregation}' (expected SUM, MIN, MAX or COUNT)")
        aggregation = ""
    elif aggregation and hit_policy != COLLECT:
        reader.problem(table_id, f"aggregation {aggregation} is only allowed with hit policy COLLECT, "
                                 f"not {hit_policy}")
        aggregation = ""

    inputs = [_read_input(reader, el, table_id, n) for n, el in enumerate(reader.children(element, "input"), 1)]
    outputs = [_read_output(reader, el, table_id, n, variable_name)
               for n, el in enumerate(reader.children(element, "output"), 1)]
    if not outputs:
        reader.problem(table_id, "decision table has no output")
    if len(outputs) > 1:
        names = [o.name for o in outputs]
        for output in outputs:
            if not output.name:
                reader.problem(output.id, "a table with several outputs needs a name on every output")
        for name in {n for n in names if n and names.count(n) > 1}:
            reader.problem(table_id, f"output name '{name}' is used twice")
        if aggregation:
            reader.problem(table_id, f"aggregation {aggregation} needs a table with a single output")
            aggregation = ""
    if hit_policy in (PRIORITY, OUTPUT_ORDER) and outputs and not any(o.output_values for o in outputs):
        reader.problem(table_id, f"hit policy {hit_policy} needs output values (outputValues) that give "
                                 "the priority order")
    table = DecisionTable(table_id, hit_policy, aggregation, inputs, outputs, [])
    for index, rule_element in enumerate(reader.children(element, "rule"), 1):
        table.rules.append(_read_rule(reader, rule_element, table, index))
    return table


def _read_input(reader: _Reader, element: Any, table_id: str, index: int) -> InputClause:
    input_id = element.get("id") or f"{table_id}.input{index}"
    label = element.get("label")
    expression_element = reader.child(element, "inputExpression")
    expression_id = (expression_element.get("id") if expression_element is not None else None) or input_id
    what = f"input '{label or index}'"
    text = reader.text_of(expression_element)
    reader.check_language(expression_element, expression_id, f"{what} expression")
    raw_type = expression_element.get("typeRef") if expression_element is not None else None
    type_ref = reader.type_ref(raw_type, expression_id, f"{what} expression")
    expression = None
    if not text:
        reader.problem(expression_id, f"{what} has no input expression")
    else:
        expression = reader.compile(text, expression_id, f"{what} expression")
    clause = InputClause(input_id, label, text, expression, type_ref)
    clause.input_variable = element.get(f"{{{CAMUNDA_NS}}}inputVariable") or "cellInput"
    values_element = reader.child(element, "inputValues")
    values_text = reader.text_of(values_element)
    if values_text:
        values_id = values_element.get("id") or input_id
        clause.input_values_text = values_text
        clause.input_values = reader.compile_tests(values_text, values_id, f"{what} allowed values")
    return clause


def _read_output(reader: _Reader, element: Any, table_id: str, index: int, variable_name: str) -> OutputClause:
    output_id = element.get("id") or f"{table_id}.output{index}"
    label = element.get("label")
    name = element.get("name") or ""
    type_ref = reader.type_ref(element.get("typeRef"), output_id, f"output '{name or label or index}'")
    clause = OutputClause(output_id, name, label, type_ref)
    values_element = reader.child(element, "outputValues")
    values_text = reader.text_of(values_element)
    if values_text:
        values_id = values_element.get("id") or output_id
        clause.output_values_text = values_text
        try:
            clause.output_values = feelc.compile_value_list(values_text)
        except feelc.CompileError as error:
            reader.problem(values_id, f"output '{name or label or index}' values order: cannot parse FEEL "
                                      f"`{values_text}`: {error}")
    if not clause.name:
        clause.name = variable_name  # a single unnamed output takes the decision's name
    return clause


def _read_rule(reader: _Reader, element: Any, table: DecisionTable, index: int) -> Rule:
    from .dmnxml import check_constant_output

    rule_id = element.get("id") or f"{table.id}.rule{index}"
    where = f"rule {rule_id} (row {index})"
    rule = Rule(rule_id, index, [], [])
    rule.description = reader.text_of(element, "description") or None
    rule.annotations = [reader.text_of(a) for a in reader.children(element, "annotationEntry")]
    input_entries = reader.children(element, "inputEntry")
    output_entries = reader.children(element, "outputEntry")
    if len(input_entries) != len(table.inputs):
        reader.problem(rule_id, f"{where} has {len(input_entries)} input entries for {len(table.inputs)} inputs")
    if len(output_entries) != len(table.outputs):
        reader.problem(rule_id, f"{where} has {len(output_entries)} output entries for "
                                f"{len(table.outputs)} outputs")
    for clause, entry in zip(table.inputs, input_entries, strict=False):
        entry_id = entry.get("id") or rule_id
        text = reader.text_of(entry)
        reader.check_language(entry, entry_id, f"{where}, input '{clause.display}'")
        tests = reader.compile_tests(text, entry_id, f"{where}, input '{clause.display}'")
        rule.inputs.append(InputEntry(entry_id, text, tests))
    for clause, entry in zip(table.outputs, output_entries, strict=False):
        entry_id = entry.get("id") or rule_id
        text = reader.text_of(entry)
        what = f"{where}, output '{clause.name}'"
        reader.check_language(entry, entry_id, what)
        expression = reader.compile(text, entry_id, what) if text else None
        check_constant_output(reader, expression, text, clause.type_ref, entry_id, what)
        rule.outputs.append(OutputEntry(entry_id, text, expression))
    return rule
