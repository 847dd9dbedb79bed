"""A deployable bundle: BPMN + DMN files, linted, parsed once, with specs ready to store."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from ..analysis import PathwayModel, analyse, check_model
from ..clock import Clock
from ..decisions import DecisionRegistry, load_dmn
from ..problems import ModelError, Problem
from ..xmlsafety import forbidden_constructs
from .canonical import canonical_hash
from .lint import BPMN, lint_bpmn
from .parser import PathwayParser
from .script_engine import FeelScriptEngine
from .serializer import spec_state
from .specs import HumanTask, PathwayStartEvent

SAFETY_SUFFIX = ".safety.yaml"  # safety properties deployed beside the diagrams (read by the verifier)
MODEL_SUFFIXES = (".bpmn", ".dmn", SAFETY_SUFFIX)
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)


@dataclass
class Bundle:
    key: str
    name: str | None
    sha256: str
    sources: dict[str, str]
    decisions: DecisionRegistry
    spec: Any = None
    subprocess_specs: dict[str, Any] = field(default_factory=dict)
    conditions: frozenset[str] = frozenset()
    model: PathwayModel | None = None  # what the static checks and the verifier read
    warnings: list[Problem] = field(default_factory=list)  # findings that do not stop a deploy
    properties: list[Any] | None = field(default_factory=list)  # safety properties; None: their files do not load

    @property
    def start_form(self) -> dict[str, Any] | None:
        """The form on the process's plain start event, which types its start variables."""
        for task_spec in self.spec.start.outputs:
            for candidate in [task_spec, *task_spec.outputs]:
                if isinstance(candidate, PathwayStartEvent) and candidate.form:
                    return candidate.form
        return None

    @cached_property
    def human_forms(self) -> dict[str, dict[str, Any]]:
        """Each user task's form by element id, for the ids that name one form in the whole bundle
        (an id two processes use for different forms is left out: its tasks carry their own)."""
        forms: dict[str, dict[str, Any]] = {}
        clashing: set[str] = set()
        for process in [self.spec, *self.subprocess_specs.values()]:
            for task_spec in process.task_specs.values():
                if isinstance(task_spec, HumanTask) and task_spec.form:
                    known = forms.setdefault(task_spec.bpmn_id, task_spec.form)
                    if known != task_spec.form:
                        clashing.add(task_spec.bpmn_id)
        return {element: form for element, form in forms.items() if element not in clashing}

    @cached_property
    def candidate_groups(self) -> frozenset[str]:
        """The literal candidate groups its user tasks name (an expression's are not known before
        it runs); worked out once per bundle, which never changes."""
        names: set[str] = set()
        for element in (self.model.elements.values() if self.model else ()):
            text = element.attr("candidateGroups") or ""
            if "$" not in text and "#" not in text:
                names.update(n.strip() for n in text.split(",") if n.strip())
        return frozenset(names)

    def script_engine(self, clock: Clock) -> FeelScriptEngine:
        return FeelScriptEngine(self.decisions, clock, self.conditions)

    def new_workflow(self, clock: Clock) -> BpmnWorkflow:
        return BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.script_engine(clock))

    def spec_state(self) -> dict[str, Any]:
        """The specs as the serializer writes them, to be stored once per definition."""
        return spec_state(self.spec, self.subprocess_specs)


def _text(content: bytes | str, name: str = "-") -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ModelError([Problem(name, "-", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from exc


def _parse_xml(name: str, text: str, problems: list[Problem]):
    try:
        root = etree.fromstring(text.encode("utf-8"), _SAFE_XML)
    except etree.XMLSyntaxError as exc:
        problems.append(Problem(name, "-", f"not well-formed XML: {exc}"))
        return None
    return root


def _is_dmn(name: str, root) -> bool:
    return name.lower().endswith(".dmn") or etree.QName(root).localname == "definitions" and "DMN" in (
        etree.QName(root).namespace or "")


# One bundle parsed at a time per process: lxml builds and uses the BPMN schema through libxml2's
# global state, and two threads building it at once fail with XMLSchemaParseError (seen with
# four worker threads on a cold cache: healthy pathways were parked as incidents). Parsing is
# CPU-bound under the GIL anyway, so serialising it costs nothing.
_PARSE_LOCK = threading.RLock()


def load_bundle(files: Mapping[str, bytes | str], key: str | None = None, *, lint: bool = True) -> Bundle:
    """Lint and parse a bundle. Raises :class:`ModelError` listing every finding; nothing half-loaded.

    ``lint=False`` is for definitions already deployed: a lint rule added in a later release must
    not stop pathways that are running on an older version (that is what migration is for).
    """
    with _PARSE_LOCK:
        return _load_bundle(files, key, lint=lint)


def _load_bundle(files: Mapping[str, bytes | str], key: str | None, *, lint: bool) -> Bundle:
    sources = {Path(name).name: _text(content, Path(name).name) for name, content in files.items()}
    problems: list[Problem] = []
    bpmn_roots: list[tuple[str, Any]] = []
    registry = DecisionRegistry()
    broken: set[str] = set()
    refused_bpmn = False
    for name, text in sources.items():
        if is_safety_file(name):
            continue
        root = _parse_xml(name, text, problems)
        if root is None:
            continue
        refused = forbidden_constructs(root)
        if refused:  # reported once, on the file; what it declares is taken as broken, not missing
            problems.extend(Problem(name, "-", message) for message in refused)
            if _is_dmn(name, root):
                broken |= _declared_decisions(root)
            else:
                refused_bpmn = True
            continue
        if _is_dmn(name, root):
            try:
                registry.add(load_dmn(text, name))
            except ModelError as exc:
                problems.extend(exc.problems)
                broken |= _declared_decisions(root)
        elif etree.QName(root).namespace == BPMN:
            bpmn_roots.append((name, root))
        else:
            problems.append(Problem(name, "-", "neither a BPMN 2.0 nor a DMN file"))
    if not bpmn_roots and not refused_bpmn:
        problems.append(Problem("-", "-", "the deployment contains no BPMN file"))
    problems.extend(registry.validate())
    model = analyse(bpmn_roots, registry, frozenset(broken))
    properties, property_problems = _safety_properties(sources, model)
    warnings: list[Problem] = []
    if lint:
        problems.extend(lint_bpmn(bpmn_roots, registry, frozenset(broken)))
        if not problems:  # the deeper checks assume a model that parses and resolves
            findings = check_model(model)
            problems.extend(p for p in findings if p.is_error)
            warnings = [p for p in findings if not p.is_error]
        problems.extend(property_problems)
    if problems:
        raise ModelError(problems)
    bundle = _parse_specs(sources, bpmn_roots, registry, key)
    bundle.model, bundle.warnings, bundle.properties = model, warnings, properties
    return bundle


def is_safety_file(name: str) -> bool:
    return name.lower().endswith(SAFETY_SUFFIX)


def _safety_properties(sources: Mapping[str, str], model: PathwayModel) -> tuple[list[Any] | None, list[Problem]]:
    """The bundle's safety properties, each event checked against the model's element ids: a
    misspelt id in a property is a deploy error like one in a diagram."""
    safety = {name: text for name, text in sources.items() if is_safety_file(name)}
    if not safety:
        return [], []
    from ..verify.properties import (  # the verifier reads what this module builds
        PropertyError,
        load_for_model,
    )

    try:
        return load_for_model(safety, model), []
    except PropertyError as exc:
        return None, exc.problems


def _declared_decisions(root: Any) -> set[str]:
    """Ids and names of the decisions a DMN file declares, even when it does not load: a syntax
    error in one cell must not also report every task that uses the file as 'not deployed'."""
    names: set[str] = set()
    for node in root.iter():
        if isinstance(node.tag, str) and etree.QName(node).localname == "decision":
            names.update(v for v in (node.get("id"), node.get("name")) if v)
    return names


@lru_cache(maxsize=1)
def _validator() -> BpmnValidator:
    # Compiling the BPMN XSD takes a while; the schema never changes.
    return BpmnValidator()


def _parse_specs(sources, bpmn_roots, registry, key) -> Bundle:
    parser = PathwayParser(validator=_validator())
    try:
        for name, root in bpmn_roots:
            parser.add_bpmn_xml(root, filename=name)
        top = key or _top_level_process(bpmn_roots)
        spec = parser.get_spec(top)
        subprocess_specs = parser.get_subprocess_specs(top)
        for process_spec in (spec, *subprocess_specs.values()):
            _wire_event_subprocess_triggers(process_spec)
    except ValidationException as exc:
        where = exc.id or (f"line {exc.line_number}" if exc.line_number else "-")
        raise ModelError([Problem(exc.file_name or "-", where, str(exc.args[0] if exc.args else exc))]) from exc
    except (KeyError, ValueError, NotImplementedError) as exc:
        raise ModelError([Problem("-", key or "-", f"cannot build the process: {exc}")]) from exc
    conditions = frozenset(
        node.text for _, root in bpmn_roots for node in root.iter(f"{{{BPMN}}}conditionExpression") if node.text)
    return Bundle(key=top, name=spec.description, sha256=canonical_hash(sources), sources=dict(sources),
                  decisions=registry, spec=spec, subprocess_specs=subprocess_specs, conditions=conditions)


def _wire_event_subprocess_triggers(process_spec) -> None:
    """Give triggered event sub-processes their start/end edges at parse time.

    SpiffWorkflow adds these edges the first time an event sub-process is triggered
    (``BpmnStartTask.trigger_wf``), mutating the shared spec: a bundle parsed by another worker or
    after a restart lacks them and the sub-process cannot finish ("No input task connected").
    Adding only the *input* edge from Start keeps Start from launching the sub-process up front.
    """
    start, end = process_spec.start, process_spec.end
    for name in start.trigger_specs:
        task_spec = process_spec.task_specs[name]
        if start.name not in task_spec._inputs:
            task_spec._inputs.append(start.name)
        if end.name not in task_spec._outputs:
            task_spec.connect(end)


def _top_level_process(bpmn_roots) -> str:
    executable, called = [], set()
    for _name, root in bpmn_roots:
        for process in root.iter(f"{{{BPMN}}}process"):
            if process.get("isExecutable") == "true":
                executable.append(process.get("id"))
        called.update(c.get("calledElement") for c in root.iter(f"{{{BPMN}}}callActivity"))
    top = [p for p in executable if p not in called]
    if len(top) != 1:
        where = bpmn_roots[0][0]
        found = ", ".join(top) or "none"
        raise ModelError([Problem(where, "-", f"expected exactly one top-level executable process, found {found}")])
    return top[0]


def collect_files(paths: Iterable[str | Path]) -> dict[str, bytes]:
    """The BPMN, DMN and safety property files under ``paths`` (files or folders), by file name."""
    files: dict[str, bytes] = {}
    for raw in paths:
        path = Path(raw)
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        for item in candidates:
            if item.is_file() and item.name.lower().endswith(MODEL_SUFFIXES):
                files[item.name] = item.read_bytes()
    return files


def load_bundle_from_paths(paths: Iterable[str | Path], key: str | None = None) -> Bundle:
    return load_bundle(collect_files(paths), key=key)


def lint_paths(paths: Iterable[str | Path]) -> list[Problem]:
    """Everything ``pathway lint`` reports, errors and warnings; DMN-only folders are linted
    without needing a BPMN."""
    files = collect_files(paths)
    if not any(not is_safety_file(name) for name in files):
        return [Problem(str(p), "-", "no .bpmn or .dmn files found") for p in paths]
    try:
        if not any(name.lower().endswith(".bpmn") for name in files):
            registry, problems = DecisionRegistry(), []
            for name, content in files.items():
                if is_safety_file(name):
                    continue  # properties name diagram elements: they are checked with a BPMN
                try:
                    registry.add(load_dmn(_text(content, name), name))
                except ModelError as exc:
                    problems.extend(exc.problems)
            return problems + registry.validate()
        return load_bundle(files).warnings
    except ModelError as exc:
        return exc.problems
