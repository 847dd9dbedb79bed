"""``pathway verify``: the static checks, then every track group of the pathway explored on its own
(in parallel processes when there are several cores), findings merged into one report."""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..analysis import check_model
from ..models.bundle import Bundle, ModelError, load_bundle
from ..problems import Problem
from .domains import form_fields
from .escalation import unescalated
from .explorer import Explorer, Finding, Options, Progress, Result
from .tracks import Group, groups


@dataclass
class GroupReport:
    name: str
    result: Result


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)  # static: lint, names, values, properties file
    groups: list[GroupReport] = field(default_factory=list)
    escalations: list[Finding] = field(default_factory=list)  # read off the model, once
    properties: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)  # user task -> its form field ids
    options: Options = field(default_factory=Options)
    seconds: float = 0.0

    @property
    def findings(self) -> list[Finding]:
        # an event sub-process explored in two groups may show the same finding twice: keep the shorter path
        found: dict[tuple[str, str, str], Finding] = {}
        for finding in [f for g in self.groups for f in g.result.findings] + self.escalations:
            key = (finding.check, finding.file, finding.element)
            kept = found.get(key)
            if kept is None or _rank(finding) < _rank(kept):
                found[key] = finding
        return sorted(found.values(), key=lambda f: (_ORDER.get(f.check, 9), len(f.trail or []), f.file, f.element))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def violations(self) -> int:
        return len(self.errors) + len(self.findings)

    @property
    def states(self) -> int:
        return sum(g.result.states for g in self.groups)

    @property
    def elements(self) -> set[tuple[str, str]]:
        """The flow elements of the explored groups (file, element id)."""
        return set().union(*(g.result.elements for g in self.groups)) if self.groups else set()

    @property
    def unreached(self) -> list[tuple[str, str]]:
        """Flow elements of the explored groups that no explored step reached (started, made ready
        or completed; a boundary event or start event only when it fired):
        dead branches of the model, or, when a bound was hit, what the bound left unchecked."""
        reached = set().union(*(g.result.reached for g in self.groups)) if self.groups else set()
        return sorted(self.elements - reached)

    @property
    def exhaustive(self) -> bool:
        return bool(self.groups) and not any(g.result.capped for g in self.groups)


def _rank(finding: Finding) -> tuple[bool, int]:
    return finding.trail is None, len(finding.trail or [])


_ORDER = {"runtime": 0, "silent": 1, "endpoint": 2, "property": 3, "escalation": 4}


def verify(files: Mapping[str, bytes | str], options: Options | None = None, workers: int | None = None,
           progress: Callable[[str, Progress], None] | None = None, tracks: Iterable[str] | None = None,
           bundle: Bundle | None = None) -> Report:
    """Static checks, then exhaustive exploration of each group of interfering tracks.

    ``files``: BPMN, DMN and ``*.safety.yaml``; ``bundle``: the same files already loaded (and
    linted), to save loading them again. ``progress(group, Progress)`` is called from this process
    as the groups advance; ``tracks`` limits the exploration to the groups that contain these
    element ids (e.g. ``GM_Triage``)."""
    began = time.perf_counter()
    report = Report(options=options or Options())
    if bundle is None:
        bundle = _load(files, report)
    else:
        report.problems = list(bundle.warnings)
    if bundle is None or bundle.properties is None:  # not runnable, or the property files do not load
        report.seconds = time.perf_counter() - began
        return report
    report.properties = [p.id for p in bundle.properties]
    report.fields = {e.id: [f.id for f in form_fields(bundle.model, e.id)]
                     for e in bundle.model.elements.values() if e.tag == "userTask"}
    wanted = set(tracks or ())
    chosen = [g for g in groups(bundle.model) if not wanted or wanted & {key[1] for key in g.elements}]
    names = [g.name for g in chosen] or [""]
    workers = max(1, min(len(names), workers if workers is not None else (os.cpu_count() or 1)))
    if workers == 1:
        for group in chosen or [None]:
            report.groups.append(GroupReport(group.name if group else "", _explore(bundle, report.options, group,
                                                                                     progress)))
    else:
        report.groups = _in_parallel(files, report.options, names, workers, progress)
    trails: dict[tuple[str, str], list] = {}
    for group in report.groups:
        for key, trail in group.result.ready_trails.items():
            if key not in trails or len(trail) < len(trails[key]):
                trails[key] = trail
    report.escalations = [Finding("escalation", e.file, e.id, message, trails.get(e.key))
                          for e, message in unescalated(bundle.model)]
    report.seconds = time.perf_counter() - began
    return report


def _load(files: Mapping[str, bytes | str], report: Report) -> Bundle | None:
    """The bundle with its static findings in ``report``; a model that breaks a static rule but still
    runs is loaded anyway, so one report shows every finding."""
    try:
        bundle = load_bundle(files)
        report.problems = list(bundle.warnings)
        return bundle
    except ModelError as exc:
        report.problems = list(exc.problems)
    try:
        bundle = load_bundle(files, lint=False)
    except ModelError:
        return None
    if bundle.model is None:
        return None
    if not any(p.severity == "warning" for p in report.problems):  # errors stopped lint before its warnings
        report.problems.extend(p for p in check_model(bundle.model) if not p.is_error)
    return bundle


def _explore(bundle: Bundle, options: Options, group: Group | None,
             progress: Callable[[str, Progress], None] | None) -> Result:
    name = group.name if group else ""
    local = Options(**{**options.__dict__, "progress": (lambda p: progress(name, p)) if progress else None})
    return Explorer(bundle, bundle.properties or [], local, group).run()


def _worker(files: Mapping[str, bytes | str], options: Options, name: str, updates: Any) -> tuple[str, Result]:
    bundle = load_bundle(files, lint=False)
    group = next(g for g in groups(bundle.model) if g.name == name)
    result = _explore(bundle, options, group, lambda group, p: updates.put((group, p)))
    for finding in result.findings:
        finding.prop = None  # compiled FEEL stays in the worker; the id and message travel
    return name, result


def _in_parallel(files: Mapping[str, bytes | str], options: Options, names: list[str], workers: int,
                 progress: Callable[[str, Progress], None] | None) -> list[GroupReport]:
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    base = Options(**{**options.__dict__, "progress": None})
    with context.Manager() as manager:
        updates = manager.Queue()
        with context.Pool(workers) as pool:
            pending = [pool.apply_async(_worker, (dict(files), base, name, updates)) for name in names]
            while not all(p.ready() for p in pending):
                _drain(updates, progress, timeout=0.2)
            _drain(updates, progress, timeout=0)
            results = dict(p.get() for p in pending)
    return [GroupReport(name, results[name]) for name in names]


def _drain(updates: Any, progress: Callable[[str, Progress], None] | None, timeout: float) -> None:
    try:
        while True:
            group, update = updates.get(timeout=timeout) if timeout else updates.get_nowait()
            if progress:
                progress(group, update)
            timeout = 0
    except queue.Empty:
        return
