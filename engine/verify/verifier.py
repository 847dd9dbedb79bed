"""``pathway verify``: the static checks, then every track group of the pathway explored on its own
(in parallel processes when there are several cores), findings merged into one report."""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis import check_model
from ..models.bundle import Bundle, ModelError, load_bundle
from ..problems import Problem
from .domains import form_fields
from .explorer import Explorer, Finding, Options, Progress, Result
from .properties import Property, PropertyError, load_properties
from .tracks import groups

SAFETY_SUFFIX = ".safety.yaml"


@dataclass
class GroupReport:
    name: str
    result: Result


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)  # static: lint, names, values, properties file
    groups: list[GroupReport] = field(default_factory=list)
    properties: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)  # user task -> its form field ids
    options: Options | None = None
    seconds: float = 0.0

    @property
    def findings(self) -> list[Finding]:
        found: dict[tuple[str, str, str], Finding] = {}
        for group in self.groups:
            for finding in group.result.findings:
                key = (finding.check, finding.file, finding.element)
                kept = found.get(key)
                if kept is None or (finding.trail and (not kept.trail or len(finding.trail) < len(kept.trail))):
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
    def exhaustive(self) -> bool:
        return bool(self.groups) and not any(g.result.capped for g in self.groups)


_ORDER = {"runtime": 0, "silent": 1, "endpoint": 2, "property": 3, "escalation": 4}


def collect(paths: Iterable[str | Path]) -> tuple[dict[str, bytes], dict[str, str]]:
    """The BPMN/DMN files and the ``*.safety.yaml`` property files under ``paths``."""
    files: dict[str, bytes] = {}
    safety: dict[str, str] = {}
    for raw in paths:
        path = Path(raw)
        for item in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if not item.is_file():
                continue
            if item.name.endswith(SAFETY_SUFFIX):
                safety[item.name] = item.read_text(encoding="utf-8")
            elif item.suffix.lower() in (".bpmn", ".dmn"):
                files[item.name] = item.read_bytes()
    return files, safety


def properties_of(bundle: Bundle, safety: Mapping[str, str]) -> list[Property]:
    """The safety properties, checked against the bundle's element ids (raises PropertyError)."""
    elements: dict[str, set[str]] = {}
    for element in bundle.model.elements.values():
        scopes = elements.setdefault(element.id, set())
        scopes.add(element.process)
        if element.scope is not None:
            scopes.add(element.scope.id)
    return load_properties(list(safety.items()), elements)


def verify(files: Mapping[str, bytes], safety: Mapping[str, str] | None = None, options: Options | None = None,
           workers: int | None = None, progress: Callable[[str, Progress], None] | None = None,
           tracks: Iterable[str] | None = None) -> Report:
    """Static checks, then exhaustive exploration of each group of interfering tracks.

    ``progress(group, Progress)`` is called from this process as the groups advance; ``tracks``
    limits the exploration to the groups that contain these element ids (e.g. ``GM_Triage``)."""
    began = time.perf_counter()
    options = options or Options()
    report = Report(options=options)
    try:
        bundle = load_bundle(files)
        report.problems = list(bundle.warnings)
    except ModelError as exc:
        report.problems = list(exc.problems)
        try:  # a model that breaks a static rule but still runs is explored too: one report, every finding
            bundle = load_bundle(files, lint=False)
        except ModelError:
            report.seconds = time.perf_counter() - began
            return report
        if bundle.model is None:
            report.seconds = time.perf_counter() - began
            return report
        if not any(p.severity == "warning" for p in report.problems):  # errors stopped lint before its warnings
            report.problems.extend(p for p in check_model(bundle.model) if not p.is_error)
    try:
        props = properties_of(bundle, safety or {})
    except PropertyError as exc:
        report.problems.extend(exc.problems)
        report.seconds = time.perf_counter() - began
        return report
    report.properties = [p.id for p in props]
    report.fields = {e.id: [f.id for f in form_fields(bundle.model, e.id)]
                     for e in bundle.model.elements.values() if e.tag == "userTask"}
    wanted = set(tracks or ())
    names = [g.name for g in groups(bundle.model)
             if not wanted or wanted & {key[1] for key in g.elements}] or [""]
    workers = max(1, min(len(names), workers if workers is not None else (os.cpu_count() or 1)))
    if workers == 1:
        for name in names:
            report.groups.append(GroupReport(name, _explore(bundle, props, options, name, progress)))
    else:
        report.groups = _in_parallel(files, dict(safety or {}), options, names, workers, progress)
    report.seconds = time.perf_counter() - began
    return report


def _explore(bundle: Bundle, props: list[Property], options: Options, name: str,
             progress: Callable[[str, Progress], None] | None) -> Result:
    group = next((g for g in groups(bundle.model) if g.name == name), None)
    local = Options(**{**options.__dict__, "progress": (lambda p: progress(name, p)) if progress else None})
    return Explorer(bundle, props, local, group).run()


def _worker(files: dict[str, bytes], safety: dict[str, str], options: Options, name: str,
            updates: Any) -> tuple[str, Result]:
    bundle = load_bundle(files, lint=False)
    props = properties_of(bundle, safety)
    result = _explore(bundle, props, options, name, lambda group, p: updates.put((group, p)))
    for finding in result.findings:
        finding.prop = None  # compiled FEEL stays in the worker; the id and message travel
    return name, result


def _in_parallel(files: dict[str, bytes], safety: dict[str, str], options: Options, names: list[str],
                 workers: int, progress: Callable[[str, Progress], None] | None) -> list[GroupReport]:
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    base = Options(**{**options.__dict__, "progress": None})
    with context.Manager() as manager:
        updates = manager.Queue()
        with context.Pool(workers) as pool:
            pending = [pool.apply_async(_worker, (files, safety, base, name, updates)) for name in names]
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
