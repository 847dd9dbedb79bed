"""The meaning of a BPMN or DMN file, apart from how an editor happened to write it.

A version is a change of meaning. Opening a file in Camunda Modeler and saving it unedited
re-encodes entities, moves namespace prefixes, reorders attributes and diagram shapes and drops
attributes that hold their default value; none of that is a new version. The canonical form
keeps every element and attribute that the engine or a reader of the model could act on and
leaves out the rest:

- diagram interchange (shapes, edges, bounds, colours) and editor metadata (exporter, the
  Modeler's execution-platform attributes): stored with the file, not part of its meaning;
- comments, processing instructions, whitespace between elements, surrounding whitespace of text;
- namespace prefixes (names are compared by namespace URI), attribute order;
- the order of flow elements in a process, of a node's incoming/outgoing references and of a
  lane's node references (BPMN gives that order no meaning), and the order between children of
  different kinds (the schemas fix it); the order among children of one kind is kept (rules for
  a FIRST hit policy, a form's enum options, parameters);
- attributes left out that hold their schema default are written out (``cancelActivity`` is
  ``true`` whether it is written or not).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"
CAMUNDA_BPMN = "http://camunda.org/schema/1.0/bpmn"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# diagram interchange and editor-only namespaces: presentation, not meaning
PRESENTATION = frozenset({
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
    "https://www.omg.org/spec/DMN/20191111/DMNDI/",
    "http://www.omg.org/spec/DMN/20180521/DC/",
    "http://www.omg.org/spec/DMN/20180521/DI/",
    "http://bpmn.io/schema/dmn/biodi/1.0",
    "http://bpmn.io/schema/dmn/biodi/2.0",
    "http://bpmn.io/schema/bpmn/biocolor/1.0",
    "http://www.omg.org/spec/BPMN/non-normative/color/1.0",
    "http://camunda.org/schema/modeler/1.0",
})
EDITOR_ATTRIBUTES = frozenset({"exporter", "exporterVersion"})

_ACTIVITY = {"isForCompensation": "false", "startQuantity": "1", "completionQuantity": "1"}
_CATCH = {"parallelMultiple": "false"}
_CAMUNDA_ASYNC = {f"{{{CAMUNDA_BPMN}}}asyncBefore": "false", f"{{{CAMUNDA_BPMN}}}asyncAfter": "false",
                  f"{{{CAMUNDA_BPMN}}}exclusive": "true"}
_GATEWAY = {"gatewayDirection": "Unspecified"}

# element (namespace, local name) -> attributes with the value they have when left out
# (BPMN 2.0 and DMN 1.3 schemas, Camunda 7's extension attributes)
DEFAULTS: dict[tuple[str, str], dict[str, str]] = {
    (BPMN, "definitions"): {"typeLanguage": "http://www.w3.org/2001/XMLSchema",
                            "expressionLanguage": "http://www.w3.org/1999/XPath"},
    (BPMN, "process"): {"processType": "None", "isClosed": "false",
                        f"{{{CAMUNDA_BPMN}}}isStartableInTasklist": "true"},
    **{(BPMN, task): {**_ACTIVITY, **_CAMUNDA_ASYNC} for task in (
        "task", "manualTask", "scriptTask", "callActivity", "transaction", "adHocSubProcess")},
    (BPMN, "userTask"): {**_ACTIVITY, **_CAMUNDA_ASYNC, "implementation": "##unspecified"},
    (BPMN, "businessRuleTask"): {**_ACTIVITY, **_CAMUNDA_ASYNC, "implementation": "##unspecified",
                                 f"{{{CAMUNDA_BPMN}}}decisionRefBinding": "latest",
                                 f"{{{CAMUNDA_BPMN}}}mapDecisionResult": "resultList"},
    (BPMN, "serviceTask"): {**_ACTIVITY, **_CAMUNDA_ASYNC, "implementation": "##WebService"},
    (BPMN, "sendTask"): {**_ACTIVITY, **_CAMUNDA_ASYNC, "implementation": "##WebService"},
    (BPMN, "receiveTask"): {**_ACTIVITY, **_CAMUNDA_ASYNC, "implementation": "##WebService",
                            "instantiate": "false"},
    (BPMN, "subProcess"): {**_ACTIVITY, **_CAMUNDA_ASYNC, "triggeredByEvent": "false"},
    (BPMN, "startEvent"): {**_CATCH, "isInterrupting": "true"},
    (BPMN, "intermediateCatchEvent"): dict(_CATCH),
    (BPMN, "boundaryEvent"): {**_CATCH, "cancelActivity": "true"},
    (BPMN, "exclusiveGateway"): dict(_GATEWAY),
    (BPMN, "inclusiveGateway"): dict(_GATEWAY),
    (BPMN, "parallelGateway"): dict(_GATEWAY),
    (BPMN, "complexGateway"): dict(_GATEWAY),
    (BPMN, "eventBasedGateway"): {**_GATEWAY, "instantiate": "false", "eventGatewayType": "Exclusive"},
    (BPMN, "multiInstanceLoopCharacteristics"): {"isSequential": "false", "behavior": "All"},
    (BPMN, "standardLoopCharacteristics"): {"testBefore": "false"},
    (BPMN, "association"): {"associationDirection": "None"},
    (DMN, "definitions"): {"expressionLanguage": "https://www.omg.org/spec/DMN/20191111/FEEL/",
                           "typeLanguage": "https://www.omg.org/spec/DMN/20191111/FEEL/"},
    (DMN, "decisionTable"): {"hitPolicy": "UNIQUE", "preferredOrientation": "Rule-as-Row"},
}

# containers whose children BPMN leaves unordered (sorted by tag and id in the canonical form)
UNORDERED = frozenset({(BPMN, "definitions"), (BPMN, "process"), (BPMN, "subProcess"),
                       (BPMN, "transaction"), (BPMN, "adHocSubProcess"), (BPMN, "collaboration"),
                       (BPMN, "laneSet"), (DMN, "definitions")})
# reference lists BPMN leaves unordered (sorted by the id they name)
UNORDERED_REFS = frozenset({(BPMN, "incoming"), (BPMN, "outgoing"), (BPMN, "flowNodeRef")})

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True,
                          remove_blank_text=True, huge_tree=False)


def canonical_form(text: str) -> Any:
    """A JSON-ready tree of a file's meaning (see the module docstring); the text itself when it
    is not XML (a safety-property file, say: compared as written)."""
    try:
        root = etree.fromstring(text.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError:
        return text
    return _node(root)


def canonical_hash(sources: Mapping[str, str]) -> str:
    """The identity of a bundle: its file names and each file's canonical form."""
    digest = hashlib.sha256()
    for name in sorted(sources):
        form = json.dumps(canonical_form(sources[name]), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest.update(name.encode() + b"\0" + form.encode() + b"\0")
    return digest.hexdigest()


def _node(element: Any) -> list[Any]:
    qname = etree.QName(element)
    attributes = {**DEFAULTS.get((qname.namespace, qname.localname), {})}
    for name, value in element.attrib.items():
        namespace = etree.QName(name).namespace
        if namespace in PRESENTATION or (namespace is None and name in EDITOR_ATTRIBUTES):
            continue
        attributes[name] = _qname_value(element, value) if name == f"{{{XSI}}}type" else value
    children = [_node(child) for child in element
                if isinstance(child.tag, str) and etree.QName(child).namespace not in PRESENTATION]
    if (qname.namespace, qname.localname) in UNORDERED:
        children.sort(key=lambda c: (c[0], c[1].get("id", ""), json.dumps(c, sort_keys=True)))
    else:
        # BPMN, DMN and Camunda's schemas fix the order between different child elements, and
        # editors write that order (a form field's validation before its enum values) whatever
        # the file had; only the order among siblings of one kind can carry meaning (rules,
        # enum options, parameters), and a stable sort keeps it
        children.sort(key=lambda c: c[0])
        _sort_reference_runs(children)
    text = (element.text or "").strip()
    return [element.tag, dict(sorted(attributes.items())), text, children]


def _sort_reference_runs(children: list[list[Any]]) -> None:
    """Sort each node's incoming/outgoing and each lane's node references among themselves."""
    for tag in {c[0] for c in children}:
        qname = etree.QName(tag)
        if (qname.namespace, qname.localname) not in UNORDERED_REFS:
            continue
        places = [i for i, c in enumerate(children) if c[0] == tag]
        for place, child in zip(places, sorted((children[i] for i in places), key=lambda c: c[2]), strict=True):
            children[place] = child


def _qname_value(element: Any, value: str) -> str:
    """``bpmn:tFormalExpression`` → ``{namespace}tFormalExpression``: prefixes are the writer's choice."""
    prefix, _, local = value.rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    return f"{{{namespace}}}{local}" if namespace else value
