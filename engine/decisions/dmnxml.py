"""Read a DMN 1.1/1.2/1.3 file (as Camunda Modeler saves it) into a :class:`DecisionModel`.

Every problem found is collected, so one :class:`ModelError` lists them all: XML and namespace
problems, unknown hit policies and aggregations, unknown ``typeRef``s, FEEL that does not parse
(with the cell's rule and entry id and the error position), unresolved local ``href``s, cycles.
DMNDI and extension elements are ignored.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from engine.problems import ModelError, Problem

from ..xmlsafety import forbidden_constructs
from . import feelc
from .model import (
    Decision,
    DecisionModel,
    DecisionRequirement,
    DecisionTable,
    InputData,
    LiteralExpression,
)
from .typeref import CoercionError, canonical_type, coerce

DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20151101/dmn11.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
CAMUNDA_NS = "http://camunda.org/schema/1.0/dmn"
_FEEL_LANGUAGES = {"feel", "feel-scala", "http://www.omg.org/spec/feel/20140401"}
_FEEL_URI = re.compile(r"^https?://www\.omg\.org/spec/dmn/\d{8}/feel/?$", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def load_dmn(source: bytes | str, filename: str) -> DecisionModel:
    """Parse and check one DMN file; raise :class:`ModelError` listing every problem found."""
    root = _parse_xml(source, filename)
    reader = _Reader(filename, root)
    model = reader.read()
    if reader.problems:
        raise ModelError(reader.problems)
    return model


def _parse_xml(source: bytes | str, filename: str) -> Any:
    if isinstance(source, str):
        source = _XML_DECLARATION.sub("", source, count=1).encode("utf-8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)
    try:
        root = etree.fromstring(source, parser)
    except etree.XMLSyntaxError as error:
        raise ModelError([Problem(filename, "", f"not well-formed XML: {error}")]) from None
    refused = forbidden_constructs(root)
    if refused:
        raise ModelError([Problem(filename, "", message) for message in refused])
    qname = etree.QName(root)
    if qname.localname != "definitions" or qname.namespace not in DMN_NAMESPACES:
        expected = ", ".join(sorted(set(DMN_NAMESPACES) - {"http://www.omg.org/spec/DMN/20151101/dmn11.xsd"}))
        found = f"{{{qname.namespace}}}{qname.localname}" if qname.namespace else qname.localname
        raise ModelError(
            [Problem(filename, root.get("id", ""), f"not a DMN file: root element is {found}, expected "
                     f"'definitions' in one of the DMN namespaces ({expected})")]
        )
    return root


class _Reader:
    def __init__(self, filename: str, root: Any) -> None:
        self.filename = filename
        self.root = root
        self.ns = etree.QName(root).namespace
        self.problems: list[Problem] = []
        self.item_types: dict[str, str | None] = {}
        self.default_language = root.get("expressionLanguage")

    # -- helpers ---------------------------------------------------------------------------
    def problem(self, element: str, message: str) -> None:
        self.problems.append(Problem(self.filename, element, message))

    def children(self, element: Any, name: str) -> list[Any]:
        return element.findall(f"{{{self.ns}}}{name}")

    def child(self, element: Any, name: str) -> Any:
        return element.find(f"{{{self.ns}}}{name}")

    def text_of(self, element: Any, name: str = "text") -> str:
        found = self.child(element, name) if element is not None else None
        return (found.text or "").strip() if found is not None else ""

    def type_ref(self, raw: str | None, element_id: str, what: str) -> str | None:
        try:
            return canonical_type(raw, self.item_types)
        except KeyError:
            self.problem(element_id, f"{what} has an unknown typeRef '{raw}'")
            return None

    def check_language(self, element: Any, element_id: str, what: str) -> None:
        language = element.get("expressionLanguage") if element is not None else None
        language = language or self.default_language
        if language and language.strip().lower() not in _FEEL_LANGUAGES and not _FEEL_URI.match(language.strip()):
            self.problem(element_id, f"{what} uses expression language '{language}'; only FEEL is supported")

    # -- reading ---------------------------------------------------------------------------
    def read(self) -> DecisionModel:
        root = self.root
        model = DecisionModel(
            filename=self.filename,
            namespace=root.get("namespace", ""),
            id=root.get("id", ""),
            name=root.get("name", ""),
            dmn_version=DMN_NAMESPACES[self.ns],
        )
        self.read_item_definitions()
        for element in self.children(root, "inputData"):
            self.read_input_data(element, model)
        seen: dict[str, str] = {data.id: "inputData" for data in model.input_data_by_id.values()}
        for element in self.children(root, "decision"):
            decision = self.read_decision(element, model)
            if decision is None:
                continue
            if decision.id in seen:
                self.problem(decision.id, f"duplicate id '{decision.id}' (also used by a {seen[decision.id]})")
                continue
            seen[decision.id] = "decision"
            model.decisions[decision.id] = decision
        for element in self.children(root, "businessKnowledgeModel"):
            self.problem(element.get("id", ""), "business knowledge models are not supported")
        self.check_local_references(model)
        return model

    def read_item_definitions(self) -> None:
        pending = {el.get("name", ""): el for el in self.children(self.root, "itemDefinition") if el.get("name")}
        for name, element in pending.items():
            if element.get("isCollection") == "true":
                self.item_types[name] = "list"
            elif self.children(element, "itemComponent"):
                self.item_types[name] = "context"
            else:
                self.item_types[name] = None  # placeholder while resolving chains
        for name, element in pending.items():
            if name in self.item_types and self.item_types[name] is not None:
                continue
            raw = self.text_of(element, "typeRef") or element.get("typeRef")
            self.item_types[name] = self.type_ref(raw, element.get("id", name), f"item definition '{name}'")

    def read_input_data(self, element: Any, model: DecisionModel) -> None:
        data_id = element.get("id", "")
        name = element.get("name") or data_id
        variable = self.child(element, "variable")
        raw_type = variable.get("typeRef") if variable is not None else None
        data = InputData(data_id, name, self.type_ref(raw_type, data_id, f"input data '{name}'"))
        if not data_id:
            self.problem("", f"input data '{name}' has no id")
        elif data_id in model.input_data_by_id:
            self.problem(data_id, f"duplicate id '{data_id}'")
        model.input_data_by_id[data_id] = data
        model.input_data[name] = data

    def read_decision(self, element: Any, model: DecisionModel) -> Decision | None:
        decision_id = element.get("id", "")
        name = element.get("name") or decision_id
        if not decision_id:
            self.problem("", f"decision '{name}' has no id")
            return None
        variable = self.child(element, "variable")
        variable_name = (variable.get("name") if variable is not None else None) or name
        raw_type = variable.get("typeRef") if variable is not None else None
        type_ref = self.type_ref(raw_type, decision_id, f"decision '{name}' variable")
        table = self.child(element, "decisionTable")
        literal = self.child(element, "literalExpression")
        logic: DecisionTable | LiteralExpression | None = None
        if table is not None:
            logic = self.read_table(table, decision_id, variable_name)
        elif literal is not None:
            logic = self.read_literal(literal, decision_id)
        else:
            kinds = [etree.QName(c).localname for c in element if isinstance(c.tag, str)]
            other = [k for k in kinds if k not in ("description", "question", "allowedAnswers", "variable",
                                                      "informationRequirement", "knowledgeRequirement",
                                                      "authorityRequirement", "extensionElements")]
            detail = f" ({', '.join(other)} is not supported)" if other else ""
            self.problem(decision_id, f"decision '{name}' has no decision table or literal expression{detail}")
        if self.children(element, "knowledgeRequirement"):
            self.problem(decision_id, f"decision '{name}' requires a business knowledge model; not supported")
        decision = Decision(
            id=decision_id,
            name=name,
            filename=self.filename,
            namespace=model.namespace,
            logic=logic,  # type: ignore[arg-type]  # None only when a problem is reported
            variable_name=variable_name,
            type_ref=type_ref,
            description=self.text_of(element, "description") or None,
        )
        for requirement in self.children(element, "informationRequirement"):
            for ref in self.children(requirement, "requiredDecision"):
                decision.required_decisions.append(self.requirement(ref, decision_id))
            for ref in self.children(requirement, "requiredInput"):
                decision.required_inputs.append((ref.get("href") or "").strip())
        return decision

    def requirement(self, ref: Any, decision_id: str) -> DecisionRequirement:
        href = (ref.get("href") or "").strip()
        if "#" not in href:
            self.problem(decision_id, f"requiredDecision href '{href}' is not of the form '#id' or 'namespace#id'")
            return DecisionRequirement(href, href, "")
        prefix, _, target = href.rpartition("#")
        return DecisionRequirement(href, target, prefix)

    def read_literal(self, element: Any, decision_id: str) -> LiteralExpression:
        literal_id = element.get("id") or decision_id
        self.check_language(element, literal_id, "literal expression")
        text = self.text_of(element)
        expression = None
        if not text:
            self.problem(literal_id, "literal expression is empty")
        else:
            expression = self.compile(text, literal_id, "literal expression")
        return LiteralExpression(literal_id, text, expression)

    def read_table(self, element: Any, decision_id: str, variable_name: str) -> DecisionTable:
        from .dmntable import read_table

        return read_table(self, element, decision_id, variable_name)

    def compile(self, text: str, element_id: str, what: str) -> Any:
        try:
            return feelc.compile_expression(text)
        except feelc.CompileError as error:
            self.problem(element_id, f"{what}: cannot parse FEEL `{text}`: {error}")
            return None

    def compile_tests(self, text: str, element_id: str, what: str) -> Any:
        try:
            return feelc.compile_tests(text)
        except feelc.CompileError as error:
            self.problem(element_id, f"{what}: cannot parse FEEL `{text}`: {error}")
            return None

    def check_local_references(self, model: DecisionModel) -> None:
        for decision in model.decisions.values():
            for requirement in decision.required_decisions:
                if not requirement.prefix and requirement.target_id not in model.decisions:
                    self.problem(decision.id, f"requiredDecision href '{requirement.href}' does not resolve "
                                              "to a decision in this file")
            names = []
            for href in decision.required_inputs:
                data = model.input_data_by_id.get(href.rpartition("#")[2])
                if data is None and not href.rpartition("#")[0]:
                    self.problem(decision.id, f"requiredInput href '{href}' does not resolve to input data "
                                              "in this file")
                elif data is not None:
                    names.append(data.name)
            decision.required_inputs = names
        for cycle in find_cycles(
            {d.id: [r.target_id for r in d.required_decisions if not r.prefix] for d in model.decisions.values()}
        ):
            self.problem(cycle[0], "decision requirement cycle: " + " -> ".join(cycle))


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Each cycle once, as a path that starts and ends with the same node."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    reported: set[frozenset[str]] = set()

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for target in graph.get(node, []):
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    cycles.append(cycle)
            elif target in graph and state.get(target) is None:
                visit(target, path)
        path.pop()
        state[node] = 2

    for node in graph:
        if state.get(node) is None:
            visit(node, [])
    return cycles


def check_constant_output(reader: _Reader, expression: Any, text: str, type_ref: str | None,
                          element_id: str, what: str) -> None:
    """Evaluate an output entry that names no variables now, so a wrong literal fails at deploy."""
    if expression is None or type_ref is None:
        return
    try:
        if expression.names():
            return
    except Exception:  # noqa: BLE001 - a FEEL object without names() is simply not checked
        return
    from engine.clock import SimulatedClock
    from engine.feel import FeelError

    try:
        value = expression.evaluate({}, clock=SimulatedClock())
    except FeelError as error:
        reader.problem(element_id, f"{what}: `{text}` cannot be evaluated: {error}")
        return
    try:
        coerce(value, type_ref)
    except CoercionError as error:
        reader.problem(element_id, f"{what}: `{text}` does not fit typeRef {type_ref}: {error}")

