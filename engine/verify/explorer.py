"""Exhaustive exploration of a pathway on the real engine (SpiffWorkflow with our FEEL, decisions
and clock), breadth first, so the first path found to a violation is a shortest one.

From each state the explorer tries every ready user task with each decisive answer
(:mod:`.domains`), every message the pathway waits for with each decisive payload, and moving the
clock to the next instant something is due (a timer, or just past a property's deadline). A state
whose key (:mod:`.statekey`) was seen before is not explored again, so cycles (a 6-monthly dose)
close.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState

from ..analysis.model import FLOW_NODES, declared_inputs
from ..clock import SimulatedClock
from ..forms import FormValidationError, validate_submission, with_defaults
from ..isotime import IsoDuration, parse_duration
from ..models.bundle import Bundle
from ..runtime import ExecutionError, PathwayRuntime, PathwayStateError
from .commute import StartReduction, changed_names
from .domains import Domains, Field, answer_variants, form_fields
from .escalation import inert_branches
from .events import Event, step_events, task_states
from .memo import DecisionMemo
from .properties import Monitor, Property, StepFacts, observe, overdue, placed_reads
from .snapshot import Snapshots
from .statekey import StateKeys, abstract
from .tracks import Group, event_subprocess_starts, track_endpoints

_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass
class Options:
    start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    horizon: IsoDuration = field(default_factory=lambda: parse_duration("P10Y"))
    max_states: int = 500_000
    event_subprocess_instances: int = 1  # non-interrupting event sub-processes running at once, at most
    # "shortest": breadth first, so each finding's path is a shortest one; "coverage": a state where
    # an element is active for the first time is explored before any other, so a bounded run reaches
    # more of the model (its paths are no longer the shortest). Exhaustive runs explore the same.
    search: str = "shortest"
    progress: Callable[[Progress], None] | None = None


@dataclass
class Progress:
    states: int
    frontier: int
    transitions: int
    findings: int
    seconds: float
    reached: int = 0  # of the group's flow elements, how many an explored step has reached
    elements: int = 0


@dataclass(frozen=True)
class Step:
    kind: str  # "start", "complete", "message", "signal" (from a track explored apart), "time"
    element: str | None
    values: dict[str, Any] | None
    at: datetime
    events: tuple[Event, ...] = ()


@dataclass
class Node:
    step: Step
    parent: Node | None
    depth: int
    changed: frozenset[str] | None = None  # the variables the step wrote (None: not known)

    def trail(self) -> list[Step]:
        steps, node = [], self
        while node is not None:
            steps.append(node.step)
            node = node.parent
        return steps[::-1]


@dataclass
class Finding:
    check: str  # "silent", "endpoint", "escalation", "property", "runtime"
    file: str
    element: str  # an element id, or a property id
    message: str
    trail: list[Step] | None = None
    prop: Property | None = None
    state: dict[str, Any] | None = None  # ready tasks, pending timers and status at the end of the trail

    @property
    def where(self) -> str:
        return f"{self.file}:{self.element}"


@dataclass
class Result:
    states: int = 0
    transitions: int = 0
    at_horizon: int = 0
    capped: bool = False
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    deepest: int = 0
    ready_trails: dict[tuple[str, str], list[Step]] = field(default_factory=dict)  # first path to each task
    # coverage: the group's flow elements, and those some explored step reached (Explorer._step_checks)
    elements: set[tuple[str, str]] = field(default_factory=set)
    reached: set[tuple[str, str]] = field(default_factory=set)


class Frontier:
    """The states still to explore: first in, first out, except that in "coverage" order a state
    marked new (an element active for the first time) goes before the rest."""

    def __init__(self, coverage: bool) -> None:
        self.coverage = coverage
        self.first: deque = deque()
        self.rest: deque = deque()

    def append(self, entry: tuple, new: bool = False) -> None:
        (self.first if self.coverage and new else self.rest).append(entry)

    def popleft(self) -> tuple:
        return self.first.popleft() if self.first else self.rest.popleft()

    def __len__(self) -> int:
        return len(self.first) + len(self.rest)


class Explorer:
    def __init__(self, bundle: Bundle, properties: list[Property], options: Options | None = None,
                 group: Group | None = None) -> None:
        if bundle.model is None:
            raise ValueError("the bundle has no pathway model")
        self.bundle = bundle
        self.model = bundle.model
        self.properties = properties
        self.options = options or Options()
        self.group = group
        self.members: set[tuple[str, str]] | None = group.elements if group else None
        self.relevant: set[str] | None = group.reads if group else None
        self.ids_in_group: set[str] | None = {k[1] for k in self.members} if self.members is not None else None
        self.domains = Domains(self.model)
        # what the properties' own expressions read is varied and kept like what the model reads
        self.property_reads = set().union(*(p.reads for p in properties))
        self.domains.read |= self.property_reads
        # elements the properties name: interrupting one that is open is something a property sees
        self.watched = set().union(*(p.named("element") for p in properties))
        # chases nothing reads: out of the state key, and no task of the track they chase
        self.inert = inert_branches(self.model, self.domains.read, self.watched)
        memo = DecisionMemo(bundle.decisions)  # one per exploration: the engine and the state key share it
        placed, anywhere = placed_reads(self.model, properties)
        self.keys = StateKeys(bundle, self.domains, self.members, anywhere, memo, self.inert, placed)
        self.snapshots = Snapshots(bundle, memo)
        self.fields: dict[str, list[Field]] = {}
        self.endpoints = track_endpoints(self.model)
        self.event_subprocesses, self.handler_reads, self.interrupting = event_subprocess_starts(self.model)
        self.outside = group.outside if group is not None else {}  # signal starts from other groups' tracks
        self.outside_ids = {e.scope.id for e in self.model.elements.values()
                            if e.id in self.outside and e.scope is not None}
        beside = (set().union(*(t.reads for t in group.tracks if t.event_subprocess is None))
                  if group is not None else set(self.domains.read))
        self.reduction = StartReduction(self.model, self.event_subprocesses, properties, beside)
        self.horizon_end = self.options.horizon.add_to(self.options.start, UTC)
        self.result = Result()
        self.result.elements = {key for key, e in self.model.elements.items() if e.tag in FLOW_NODES
                                and (self.members is None or key in self.members)}
        self._findings: dict[tuple[str, str, str], Finding] = {}  # (check, file, element) -> the one kept
        self._interrupted: set[tuple] = set()  # interruptions queued: what the sub-process can tell apart
        self._live_after: dict[tuple, set[str]] = {}
        self._beside: dict[tuple, set[str]] = {}
        self._active_seen: set[tuple[str, str]] = set()  # (process, element) active in an explored state

    # -- the search ----------------------------------------------------------------------------
    def run(self) -> Result:
        began = time.perf_counter()
        seen: set[tuple] = set()
        frontier = Frontier(self.options.search == "coverage")
        for variables in self._start_variants():
            clock = SimulatedClock(self.options.start)
            try:
                runtime = PathwayRuntime.start(self.bundle, clock, variables)
            except (ExecutionError, PathwayStateError) as exc:
                self._finding("runtime", "-", "-", f"the pathway cannot start with {variables}: {exc}", None)
                continue
            node = Node(Step("start", None, variables, clock.now()), None, 0)
            monitor = Monitor()
            self._after_step(node, runtime, monitor, task_states(runtime.workflow), {}, frontier, seen, clock)
        last_report = 0.0
        while frontier:
            if len(seen) >= self.options.max_states:
                self.result.capped = True
                break
            node, snapshot, now, monitor, only = frontier.popleft()
            self._expand(node, snapshot, now, monitor, frontier, seen, only)
            if self.options.progress and time.perf_counter() - last_report > 0.5:
                last_report = time.perf_counter()
                self.options.progress(self._progress(seen, frontier, last_report - began))
        self.result.states = len(seen)
        self.result.seconds = time.perf_counter() - began
        if self.options.progress:
            # the frontier left is what a bound cut off: the bar must not show a capped group as done
            self.options.progress(self._progress(seen, frontier, self.result.seconds))
        return self.result

    def _progress(self, seen: set, frontier: Frontier, seconds: float) -> Progress:
        return Progress(len(seen), len(frontier), self.result.transitions, len(self.result.findings), seconds,
                        len(self.result.reached & self.result.elements), len(self.result.elements))

    def _expand(self, node: Node, snapshot: bytes, now: datetime, monitor: Monitor,
                frontier: Frontier, seen: set, only: str | None = None) -> None:
        first_clock = SimulatedClock(now)
        runtime = self.snapshots.restore(snapshot, first_clock)
        before = task_states(runtime.workflow)
        actions = self._actions(runtime, now, monitor, before, only, node)
        # what each step writes is told against this, where a start may wait on it (commute.py)
        data = dict(runtime.data) if self.reduction.reads else None
        for index, action in enumerate(actions):
            if index == len(actions) - 1:  # the copy the actions were read from serves the last one
                clock, branch = first_clock, runtime
            else:
                clock = SimulatedClock(now)
                branch = self.snapshots.restore(snapshot, clock)
            try:
                step = self._apply(branch, action, clock)
            except (ExecutionError, PathwayStateError) as exc:
                child = Node(Step(action[0], action[1], action[2], clock.now()), node, node.depth + 1)
                self._finding("runtime", self._file_of(action[1]), action[1] or "-",
                              f"the engine refused the step: {exc}", child)
                continue
            self.result.transitions += 1
            child = Node(step, node, node.depth + 1, changed_names(data, branch.data) if data is not None else None)
            self._after_step(child, branch, monitor.copy(), task_states(branch.workflow), before, frontier, seen, clock)

    def _after_step(self, node: Node, runtime: PathwayRuntime, monitor: Monitor, after: dict, before: dict,
                    frontier: Frontier, seen: set, clock: SimulatedClock) -> None:
        events = step_events(before, after)
        node.step = Step(node.step.kind, node.step.element, node.step.values, node.step.at, tuple(events))
        now = clock.now()
        ended = runtime.status != "running"
        facts = StepFacts(events, node.step.element if node.step.kind == "message" else None, ended,
                          runtime.data, now, clock)
        for breach in observe(self.properties, monitor, facts):
            self._finding("property", breach.property.file, breach.property.id, breach.message, node,
                          breach.property, runtime)
        if node.step.kind == "time":
            for breach in overdue(self.properties, monitor, now):
                self._finding("property", breach.property.file, breach.property.id, breach.message, node,
                              breach.property, runtime)
                monitor.pending.pop(breach.property.id, None)
        for event in events:
            self._step_checks(event, node, runtime)
        if ended:
            return
        silent = self._silent(runtime, after)
        if silent is not None:
            self._finding("silent", silent[0], silent[1],
                          f"the patient is left with no task and no timer on this track (it waits on: "
                          f"{', '.join(silent[2]) or 'nothing'})", node, runtime=runtime)
            return
        interruptions = self._interruptions(runtime, monitor, after)
        key = self.keys.key(runtime, after, monitor, now)
        new = key not in seen
        if not new and not interruptions:
            return
        snapshot = self.snapshots.take(runtime)
        for name in interruptions:
            frontier.append((node, snapshot, now, monitor.copy(), name))
        if new:
            seen.add(key)
            self.result.deepest = max(self.result.deepest, node.depth)
            first = {(process, element) for process, element, _ in key[0]} - self._active_seen
            self._active_seen |= first
            frontier.append((node, snapshot, now, monitor, None), bool(first))

    def _interruptions(self, runtime: PathwayRuntime, monitor: Monitor, views: dict) -> list[str]:
        """The interrupting event sub-processes to start from this state: each it waits for,
        unless one was queued already with the same values of what that sub-process reads, the same
        property state and the same watched elements open. It cancels every track, so where the
        tracks stood tells nothing more; this is why the state key can leave those reads out."""
        names = {m for m, e in runtime.waiting_catchers() if m in self.interrupting
                 and (self.ids_in_group is None or e in self.ids_in_group)}
        if not names:
            return []
        today, now = runtime.clock.today(), runtime.clock.now()
        watched = tuple(sorted((v.element, v.state) for v in views.values()
                               if v.state & _ACTIVE and v.element in self.watched))
        facts = (tuple(sorted((p, when - now) for p, when in monitor.pending.items())),
                 tuple(sorted(k for k, v in monitor.seen.items() if v)), watched)
        queue = []
        for name in sorted(names):
            reads = tuple((v, abstract(self.domains.abstract(v, runtime.data[v]), today, now))
                          for v in sorted(self.handler_reads.get(name, ())) if v in runtime.data)
            queued = (name, reads, facts)
            if queued not in self._interrupted:
                self._interrupted.add(queued)
                queue.append(name)
        return queue

    # -- actions -------------------------------------------------------------------------------
    def _actions(self, runtime: PathwayRuntime, now: datetime, monitor: Monitor, views: dict,
                 only: str | None = None, node: Node | None = None) -> list[tuple]:
        actions: list[tuple] = []
        if only is not None:  # a state queued to be interrupted by this message, nothing else
            catchers = runtime.waiting_catchers()
            return [("message", only, payload, None)
                    for payload in self._payload_variants(runtime.required_payload(only, catchers))]
        today = runtime.clock.today()
        active = sorted({(v.file, v.element) for v in views.values() if v.state & _ACTIVE and self._mine(v.file, v.element)})
        # positions whose later reads a task's answers may feed: not chases nothing reads, not containers
        beside = sorted({(v.file, v.element) for v in views.values() if v.state & _ACTIVE
                         and self._mine(v.file, v.element) and (v.file, v.element) not in self.inert
                         and not self.keys.container(v.file, v.element, v.state)})
        for task in runtime.ready_human_tasks():
            view = views.get(UUID(task["id"]))
            if view is not None and not self._mine(view.file, view.element):
                continue
            element = task["elementId"]
            defaults = task.get("defaults") or {}
            form = with_defaults(task["form"], defaults)
            effects = set()
            varied = self._varied(view.file if view else None, element) | self._read_beside(beside, view)
            for values in answer_variants(self.domains, self._fields(element), today, defaults, varied):
                try:
                    typed = validate_submission(form, values)
                except FormValidationError:
                    continue  # an answer the form refuses is not a step a user can take
                # answers that leave the same for every later read lead to the same state: try one
                effect = self.keys.answer_effect(view.file if view else "", element, active, runtime.data, typed,
                                                 runtime.clock)
                if effect not in effects:
                    effects.add(effect)
                    actions.append(("complete", element, values, (task, typed)))
        running = self._running_event_subprocesses(runtime)
        catchers = runtime.waiting_catchers()
        for name in sorted({message for message, _ in catchers}):
            if self.ids_in_group is not None and not any(m == name and e in self.ids_in_group for m, e in catchers):
                continue
            esp = self.event_subprocesses.get(name)
            if esp is not None and running >= self.options.event_subprocess_instances:
                continue  # the bound: this many event sub-processes run at once, at most
            if name in self.interrupting:
                if name != only:
                    continue  # queued once per value of what it reads (_interruptions)
            # a non-interrupting one runs alongside the tracks: started from every state where the
            # order can matter (commute.py), the state key deciding when two starts are the same
            if esp is not None and node is not None and self.reduction.may_wait(
                    name, node.step.kind, node.step.element, node.changed):
                continue
            for payload in self._payload_variants(runtime.required_payload(name, catchers)):
                actions.append(("message", name, payload, None))
        if self.outside and running < self.options.event_subprocess_instances:
            # thrown by a track of another group: it may come at any time, with any value of what
            # that track writes and the sub-process reads
            for name, start in sorted(runtime.signal_starts()):
                if start in self.outside:
                    for payload in self._payload_variants(sorted(self.outside[start])):
                        actions.append(("signal", name, payload, None))
        group_timers = [(due, element) for due, element in runtime.pending_timers()
                        if self.ids_in_group is None or element in self.ids_in_group]
        instants = [due for due, _ in group_timers] + [d + timedelta(seconds=1) for d in monitor.deadlines()]
        later = [t for t in instants if t > now]
        if later:
            target = min(later)
            if target <= self.horizon_end:
                actions.append(("time", None, None, target))
            else:
                self.result.at_horizon += 1
        return actions

    def _varied(self, file: str | None, element: str) -> set[str]:
        """The answers of a task worth trying each decisive value of: those the group reads after
        the task completes (or a property reads). Any other answer is one value."""
        found = self._live_after.get((file, element))
        if found is None:
            key = self.keys.liveness.by_id.get((file, element)) if file else None
            after = set(self.keys.liveness.live_after(key)) if key else set(self.domains.read)
            found = self._live_after[(file, element)] = (after & self.relevant if self.relevant is not None
                                                          else after) | self.property_reads
        return found

    def _read_beside(self, positions: list[tuple[str, str]], own: Any) -> set[str]:
        """What the group's other active positions may still read: a task in an event sub-process
        (or in one of two parallel branches) writes for the tracks running beside it too, which
        its own flow's liveness does not reach."""
        others = tuple(p for p in positions if own is None or p != (own.file, own.element))
        found = self._beside.get(others)
        if found is None:
            by_id = self.keys.liveness.by_id
            names = set().union(*(self.keys.liveness.live(by_id[p]) for p in others if p in by_id))
            found = self._beside[others] = names & self.relevant if self.relevant is not None else names
        return found

    def _mine(self, file: str, element: str) -> bool:
        return self.members is None or (file, element) in self.members

    def _apply(self, runtime: PathwayRuntime, action: tuple, clock: SimulatedClock) -> Step:
        kind, element, values, extra = action
        if kind == "complete":
            task, typed = extra
            runtime.complete_task(task["id"], typed)
            return Step(kind, element, values, clock.now())
        if kind == "message":
            runtime.correlate_message(element, values)
            return Step(kind, element, values, clock.now())
        if kind == "signal":
            runtime.throw_signal(element, values)
            return Step(kind, element, values, clock.now())
        clock.set(extra)
        runtime.fire_due_timers()
        return Step(kind, None, None, clock.now())

    def _fields(self, element: str) -> list[Field]:
        found = self.fields.get(element)
        if found is None:
            found = self.fields[element] = form_fields(self.model, element)
        return found

    def _payload_variants(self, names: list[str]) -> list[dict[str, Any]]:
        variants: list[dict[str, Any]] = [{}]
        for name in names:
            variants = [{**v, name: value} for v in variants for value in self.domains.variable_classes(name)]
        return variants

    def _start_variants(self) -> list[dict[str, Any]]:
        """Enrolment variables: each decisive value of the start form's fields and of the declared
        inputs (e.g. each site the SitePolicy table names, and no site)."""
        top = self.model.top_process()
        if top is None:
            return [{}]
        start = next((e for e in self.model.children(top) if e.tag == "startEvent" and self.model.form_fields(e)), None)
        today = self.options.start.date()
        variants = answer_variants(self.domains, form_fields(self.model, start.id), today, {}) if start else [{}]
        for name in declared_inputs(top):
            variants = variants + [{**v, name: value} for v in variants for value in self.domains.input_values(name)]
        return variants

    # -- checks --------------------------------------------------------------------------------
    def _silent(self, runtime: PathwayRuntime, views: dict) -> tuple[str, str, list[str]] | None:
        """A track of this group that still runs but has no ready task and no pending timer."""
        active = [v for v in views.values() if v.state & _ACTIVE and self._mine(v.file, v.element)]
        held = self._held_by_chases(active)
        mine = [v for v in active if (v.file, v.element) not in self.inert and v not in held]
        if not mine:
            return None  # the group's tracks have ended (their ends are checked as endpoints)
        if any(v.human and v.state == TaskState.READY for v in mine):
            return None
        timers = {element for _, element in runtime.pending_timers()}
        if any(v.element in timers for v in mine):
            return None
        waits = [v for v in mine if v.state == TaskState.WAITING and v.element not in timers]
        first = waits[0] if waits else mine[0]
        return first.file, first.element, sorted({v.element for v in waits})

    def _waits_when_started(self, event: Event) -> bool:
        """Started means the patient is there (a course under way, a wait for a timer), except for
        an armed boundary event or event sub-process start: those are reached when they fire."""
        element = self.model.elements.get((event.file, event.element))
        return element is not None and element.tag not in ("boundaryEvent", "startEvent")

    def _held_by_chases(self, active: list) -> list:
        """Started sub-processes whose own flow has ended and which only an open overdue chase
        keeps running: they close when the chase is answered, so they are no silent track."""
        inside: dict[tuple[str, str], set[bool]] = {}  # container -> are its active leaves chases?
        for view in active:
            element = self.model.elements.get((view.file, view.element))
            if element is None or self.keys.container(view.file, view.element, view.state):
                continue
            for scope in element.enclosing():
                inside.setdefault((scope.file, scope.id), set()).add((view.file, view.element) in self.inert)
        return [v for v in active if self.keys.container(v.file, v.element, v.state)
                and inside.get((v.file, v.element)) == {True}]

    def _step_checks(self, event: Event, node: Node, runtime: PathwayRuntime) -> None:
        if event.kind in ("ready", "completed") or (event.kind == "started" and self._waits_when_started(event)):
            self.result.reached.add((event.file, event.element))
        if event.kind == "ready" and (event.file, event.element) not in self.result.ready_trails:
            self.result.ready_trails[(event.file, event.element)] = node.trail()
        if event.kind != "completed":
            return
        endpoint = self.endpoints.get((event.file, event.element))
        if endpoint is not None and not endpoint:
            self._finding("endpoint", event.file, event.element,
                          f"a track ends at '{event.element}', which the model does not mark as a clinical "
                          f"endpoint (extension property clinicalEndpoint)", node, runtime=runtime)

    def _running_event_subprocesses(self, runtime: PathwayRuntime) -> int:
        """How many non-interrupting event sub-processes are running now."""
        ids = set(self.event_subprocesses.values()) | self.outside_ids
        return sum(1 for sub in runtime.workflow.subprocesses.values() if sub.spec.name in ids and any(
            t.has_state(_ACTIVE) for t in sub.get_tasks() if getattr(t.task_spec, "bpmn_id", None)))

    def _finding(self, check: str, file: str, element: str, message: str, node: Node | None,
                 prop: Property | None = None, runtime: PathwayRuntime | None = None) -> None:
        key = (check, file, element)
        kept = self._findings.get(key)
        if kept is not None:
            if node is None or kept.trail is None or len(kept.trail) <= node.depth + 1:
                return
            self.result.findings.remove(kept)  # found again by a shorter path (coverage order)
        state = None
        if runtime is not None:
            state = {"ready": sorted(t["elementId"] for t in runtime.ready_human_tasks()),
                     "timers": sorted({element for _, element in runtime.pending_timers()}),
                     "status": runtime.status}
        finding = self._findings[key] = Finding(check, file, element, message, node.trail() if node else None,
                                                 prop, state)
        self.result.findings.append(finding)

    def _file_of(self, element: str | None) -> str:
        for e in self.model.elements.values():
            if e.id == element:
                return e.file
        return "-"
