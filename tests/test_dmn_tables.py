"""Clinical decision tests: every YAML case in ``tests/decisions/`` against the DMN files in ``dmn/``.

Run them alone with ``python -m tests.decisions`` (or ``pytest tests/test_dmn_tables.py -v``).
The file format is described in ``tests/decisions/README.md``. Besides one test per case, this
module checks that every rule id in ``dmn/`` is hit by at least one case and named in the
``rules`` of at least one case, that every rule carries its source, that enumerated inputs in the
cases are allowed values of the tables, that ``docs/traceability.md`` lists every rule, and that
every DMN file has complete, non-overlapping DMNDI as Camunda Modeler saves it.

No clinical value lives here: thresholds are in ``dmn/``, expectations in the YAML files.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.decisions import DecisionRegistry, DecisionTable, load_dmn  # noqa: E402

DMN_DIR = ROOT / "dmn"
CASES_DIR = ROOT / "tests" / "decisions"
TRACEABILITY = ROOT / "docs" / "traceability.md"
SITE_POLICY = "SitePolicy"
FILE_KEYS = {"table", "title", "source", "defaults", "site_policy", "cases"}
CASE_KEYS = {"name", "inputs", "expect", "rules", "source", "note", "decision", "site_policy"}
SOURCE_TAG = re.compile(r"\b(S00[0-4]|E-\d+|EXT-\d+)\b|\[(RK|PROP)\]")


# -- reading the case files ------------------------------------------------------------------
def _load_yaml_text(text: str, name: str) -> Any:
    return yaml.safe_load(text)


def case_files() -> list[Path]:
    return sorted(CASES_DIR.glob("*.yaml"))


@cache
def load_case_file(path: Path) -> dict[str, Any]:
    data = _load_yaml_text(path.read_text(encoding="utf-8"), path.name)
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected a mapping with 'table' and 'cases'")
    return data


def all_cases() -> list[tuple[str, int, dict[str, Any], dict[str, Any]]]:
    """(file name, index, file data, case) for every case of every file."""
    found = []
    for path in case_files():
        data = load_case_file(path)
        for index, case in enumerate(data.get("cases") or []):
            found.append((path.name, index, data, case))
    return found


CASES = all_cases()


def _case_id(item: tuple[str, int, dict[str, Any], dict[str, Any]]) -> str:
    name, index, _data, case = item
    return f"{name.removesuffix('.yaml')}: {case.get('name', f'case {index + 1}')}"


# -- the decisions -----------------------------------------------------------------------------
def dmn_files() -> list[Path]:
    return sorted(DMN_DIR.glob("*.dmn"))


def _feel_literal(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def _with_site_policy(source: bytes, overrides: Mapping[str, Any]) -> bytes:
    """The DMN source with SitePolicy's output cells replaced (every rule) by ``overrides``."""
    root = etree.fromstring(source)
    ns = {"d": etree.QName(root).namespace}
    decision = root.find(f"d:decision[@id='{SITE_POLICY}']", ns)
    if decision is None:
        return source
    table = decision.find("d:decisionTable", ns)
    names = [o.get("name") for o in table.findall("d:output", ns)]
    unknown = set(overrides) - set(names)
    if unknown:
        raise KeyError(f"site_policy names unknown SitePolicy outputs: {sorted(unknown)} (known: {names})")
    for rule in table.findall("d:rule", ns):
        entries = rule.findall("d:outputEntry", ns)
        for name, value in overrides.items():
            entries[names.index(name)].find("d:text", ns).text = _feel_literal(value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@cache
def registry(site_policy: tuple[tuple[str, Any], ...] = ()) -> DecisionRegistry:
    overrides = dict(site_policy)
    reg = DecisionRegistry()
    used = False
    for path in dmn_files():
        source = path.read_bytes()
        if overrides and f'id="{SITE_POLICY}"'.encode() in source:
            source = _with_site_policy(source, overrides)
            used = True
        reg.add(load_dmn(source, path.name))
    if overrides and not used:
        raise KeyError(f"site_policy overrides given but no DMN file defines decision '{SITE_POLICY}'")
    return reg


def _freeze(mapping: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((mapping or {}).items()))


def case_inputs(data: Mapping[str, Any], case: Mapping[str, Any]) -> dict[str, Any]:
    inputs = dict(data.get("defaults") or {})
    inputs.update(case.get("inputs") or {})
    return inputs


def case_site_policy(data: Mapping[str, Any], case: Mapping[str, Any]) -> dict[str, Any]:
    policy = dict(data.get("site_policy") or {})
    policy.update(case.get("site_policy") or {})
    return policy


@cache
def evaluate_case(position: int) -> Any:
    _name, _index, data, case = CASES[position]
    reg = registry(_freeze(case_site_policy(data, case)))
    decision = case.get("decision") or data["table"]
    return reg.evaluate(decision, case_inputs(data, case))


# -- comparing -------------------------------------------------------------------------------
def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool) or expected is None or actual is None:
        return expected is actual or expected == actual and type(expected) is type(actual)
    if isinstance(expected, int | float | Decimal) and isinstance(actual, int | float | Decimal):
        return Decimal(str(expected)) == Decimal(str(actual))
    return expected == actual


def mismatches(expected: Any, actual: Any, where: str = "result") -> list[str]:
    """Differences between an expectation (a value, a partial row, or a list of them) and a result."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object with {sorted(expected)}, got {actual!r}"]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{where}.{key}: no such output (outputs: {sorted(actual)})")
            else:
                problems.extend(mismatches(value, actual[key], f"{where}.{key}"))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list of {len(expected)}, got {actual!r}"]
        if len(expected) != len(actual):
            return [f"{where}: expected {len(expected)} item(s), got {len(actual)}: {actual!r}"]
        problems = []
        for index, (exp, act) in enumerate(zip(expected, actual, strict=True)):
            problems.extend(mismatches(exp, act, f"{where}[{index + 1}]"))
        return problems
    if _same(expected, actual):
        return []
    hint = ""
    if isinstance(expected, bool) and isinstance(actual, str):
        hint = " (YAML reads YES/NO/ON/OFF as booleans: quote them, e.g. \"YES\")"
    return [f"{where}: expected {expected!r}, got {actual!r}{hint}"]


# -- the tests -------------------------------------------------------------------------------
def test_there_are_cases_for_every_table() -> None:
    assert dmn_files(), "no DMN files in dmn/"
    assert CASES, "no decision test cases in tests/decisions/"
    tables = {d.id for d in registry().decisions() if isinstance(d.logic, DecisionTable)}
    tested = {data["table"] for _f, _i, data, _c in CASES} | {c["decision"] for _f, _i, _d, c in CASES if c.get("decision")}
    assert sorted(tables - tested) == []


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.name)
def test_case_file_shape(path: Path) -> None:
    data = load_case_file(path)
    assert set(data) <= FILE_KEYS, f"unknown keys {sorted(set(data) - FILE_KEYS)}"
    assert isinstance(data.get("table"), str), "'table' names the decision id the cases evaluate"
    registry().get(data["table"])
    cases = data.get("cases")
    assert isinstance(cases, list) and cases, "'cases' must be a non-empty list"
    names = []
    for case in cases:
        assert isinstance(case, dict), f"a case must be a mapping, got {case!r}"
        assert set(case) <= CASE_KEYS, f"{case.get('name')}: unknown keys {sorted(set(case) - CASE_KEYS)}"
        assert case.get("name"), f"a case has no name: {case!r}"
        assert "expect" in case, f"{case['name']}: no 'expect'"
        assert case.get("source"), f"{case['name']}: no 'source'"
        names.append(case["name"])
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert duplicates == [], f"duplicate case names: {duplicates}"


@pytest.mark.parametrize("position", range(len(CASES)), ids=[_case_id(c) for c in CASES])
def test_decision_case(position: int) -> None:
    _name, _index, data, case = CASES[position]
    result = evaluate_case(position)
    problems = mismatches(case["expect"], result.value)
    if "rules" in case:
        expected_rules = list(case["rules"] or [])
        if expected_rules != result.matched_rules:
            problems.append(f"matched rules: expected {expected_rules}, got {result.matched_rules}")
    assert problems == [], "\n".join([f"inputs: {case_inputs(data, case)}", *problems])


def _all_rules() -> dict[str, tuple[str, str]]:
    """rule id -> (file, decision id) for every rule of every table in dmn/."""
    rules: dict[str, tuple[str, str]] = {}
    for decision in registry().decisions():
        if isinstance(decision.logic, DecisionTable):
            for rule in decision.logic.rules:
                rules[rule.id] = (decision.filename, decision.id)
    return rules


def test_every_rule_is_hit_by_a_case() -> None:
    hit: set[str] = set()
    for position in range(len(CASES)):
        for entry in evaluate_case(position).trace:
            hit.update(entry.get("matchedRules") or [])
    missing = sorted(set(_all_rules()) - hit)
    assert missing == [], f"rules no case reaches: {missing}"


def test_every_rule_is_named_in_a_case() -> None:
    named = {rule for _f, _i, _d, case in CASES for rule in (case.get("rules") or [])}
    missing = sorted(set(_all_rules()) - named)
    assert missing == [], f"rules no case lists under 'rules': {missing}"
    unknown = sorted(named - set(_all_rules()))
    assert unknown == [], f"cases list rule ids that do not exist: {unknown}"


def test_every_rule_has_a_stable_id_and_a_source() -> None:
    seen: dict[str, str] = {}
    problems = []
    for decision in registry().decisions():
        if not isinstance(decision.logic, DecisionTable):
            continue
        for rule in decision.logic.rules:
            if rule.id in seen:
                problems.append(f"{rule.id}: used in {seen[rule.id]} and {decision.id}")
            seen[rule.id] = decision.id
            if not re.fullmatch(r"(DT\d+[a-z]?|SP)_R\d+[a-z]?", rule.id):
                problems.append(f"{decision.id}/{rule.id}: rule id is not of the form DT7_R5 / SP_R1")
            if not rule.description or not SOURCE_TAG.search(rule.description):
                problems.append(f"{decision.id}/{rule.id}: annotation names no source (S00x, E-n, [RK], [PROP])")
    assert problems == []


def _enumerations() -> dict[str, list[tuple[str, Any]]]:
    """input name -> [(decision id, compiled allowed values)] for inputs read straight from a variable."""
    found: dict[str, list[tuple[str, Any]]] = {}
    for decision in registry().decisions():
        if isinstance(decision.logic, DecisionTable):
            for clause in decision.logic.inputs:
                if clause.input_values is not None and re.fullmatch(r"\w+", clause.expression_text):
                    found.setdefault(clause.expression_text, []).append((decision.id, clause))
    return found


def test_case_inputs_use_allowed_values() -> None:
    enumerations = _enumerations()
    problems = []
    for _f, _i, data, case in CASES:
        for name, value in case_inputs(data, case).items():
            if value is None:
                continue
            for decision_id, clause in enumerations.get(name, []):
                if not clause.input_values.matches(value):
                    problems.append(f"{case['name']}: {name} = {value!r} is not one of {clause.input_values_text} "
                                    f"({decision_id})")
    assert problems == []


def test_site_policy_overrides_name_real_outputs_and_allowed_values() -> None:
    site = registry().get(SITE_POLICY).logic
    allowed = {clause.name: clause for clause in site.outputs}
    problems = []
    for _f, _i, data, case in CASES:
        policy = case_site_policy(data, case)
        if policy:
            registry(_freeze(policy))  # raises KeyError on an unknown output name
            for name, value in policy.items():
                clause = allowed[name]
                if clause.output_values and clause.priority(value) == len(clause.output_values):
                    problems.append(f"{case['name']}: site_policy {name} = {value!r} is not one of {clause.output_values_text}")
    assert problems == []


_STRING_LIST = re.compile(r'^\s*"[^"]*"(\s*,\s*"[^"]*")*\s*$')


def test_table_cells_use_allowed_values() -> None:
    """A typo in a cell ("DO_NOT_OFER", "WORSENNING") would silently never match: refuse it here."""
    problems = []
    for decision in registry().decisions():
        table = decision.logic
        if not isinstance(table, DecisionTable):
            continue
        for rule in table.rules:
            for clause, entry in zip(table.inputs, rule.inputs, strict=True):
                if clause.input_values is not None and _STRING_LIST.match(entry.text):
                    for value in re.findall(r'"([^"]*)"', entry.text):
                        if not clause.input_values.matches(value):
                            problems.append(f"{rule.id}: input '{clause.display}' cell {entry.text} "
                                            f"is not within {clause.input_values_text}")
            for clause, entry in zip(table.outputs, rule.outputs, strict=True):
                if clause.output_values and _STRING_LIST.match(entry.text or "") and entry.text.count('"') == 2:
                    if clause.priority(entry.text.strip().strip('"')) == len(clause.output_values):
                        problems.append(f"{rule.id}: output '{clause.name}' = {entry.text} is not within "
                                        f"{clause.output_values_text}")
    assert problems == []


def test_traceability_is_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("decision_traceability", CASES_DIR / "traceability.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    document = TRACEABILITY.read_text(encoding="utf-8")
    assert module.updated(document) == document, (
        "docs/traceability.md is out of date: run python -m tests.decisions.traceability")


def test_traceability_lists_every_rule() -> None:
    assert TRACEABILITY.exists(), "docs/traceability.md is missing"
    text = TRACEABILITY.read_text(encoding="utf-8")
    missing = sorted(rule for rule in _all_rules() if not re.search(rf"`{re.escape(rule)}`", text))
    assert missing == [], f"rules not in docs/traceability.md: {missing}"


# -- Camunda Modeler fit of the files (DMNDI complete, no overlaps) -----------------------------
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"
DMNDI = "https://www.omg.org/spec/DMN/20191111/DMNDI/"
DC = "http://www.omg.org/spec/DMN/20180521/DC/"
MODELER = "http://camunda.org/schema/modeler/1.0"


def _bounds(shape: Any) -> tuple[float, float, float, float]:
    b = shape.find(f"{{{DC}}}Bounds")
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def _overlap(a: Iterable[float], b: Iterable[float]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


@pytest.mark.parametrize("path", dmn_files(), ids=lambda p: p.name)
def test_dmn_file_is_modeler_shaped(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    assert root.tag == f"{{{DMN13}}}definitions"
    assert root.get("exporter") == "Camunda Modeler" and root.get("exporterVersion")
    assert root.get(f"{{{MODELER}}}executionPlatform") == "Camunda Platform"
    assert root.get(f"{{{MODELER}}}executionPlatformVersion", "").startswith("7.22")
    elements = [e.get("id") for e in root if etree.QName(e).localname in ("decision", "inputData")]
    requirements = [r.get("id") for r in root.iter(f"{{{DMN13}}}informationRequirement")]
    shapes = {s.get("dmnElementRef"): s for s in root.iter(f"{{{DMNDI}}}DMNShape")}
    edges = {e.get("dmnElementRef") for e in root.iter(f"{{{DMNDI}}}DMNEdge")}
    assert sorted(set(elements) - set(shapes)) == [], "decisions / input data without a DMNShape"
    assert sorted(set(requirements) - edges) == [], "information requirements without a DMNEdge"
    boxes = [(ref, _bounds(shape)) for ref, shape in shapes.items()]
    overlapping = [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:] if _overlap(ba, bb)]
    assert overlapping == []
