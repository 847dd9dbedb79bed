"""One pathway instance in memory: a SpiffWorkflow workflow plus our bundle and clock.

This is the only module the service layer uses to touch SpiffWorkflow objects. It knows how to
start, load and save an instance (without its spec), list ready human tasks, complete them,
deliver messages and fire due timers in due order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from .clock import Clock, FixedClock
from .models.bundle import Bundle
from .models.prune import prune_history
from .models.script_engine import process_variables
from .models.serializer import SERIALIZER_VERSION, dump_workflow, load_workflow
from .models.specs import HumanTask, PathwayEventSubprocess, PathwayMessage, PathwayStartEvent
from .models.timers import ClockCycle, ClockDuration, ClockTimeDate

_TIMERS = (ClockTimeDate, ClockDuration, ClockCycle)
PRUNED_DONE = "prunedDone"  # state key: elements completed by tasks the saved state no longer holds
MAX_CATCH_UP = 10_000  # guards against a model that would fire forever within one catch-up


_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def _is_busy(task, scope) -> bool:
    """A token of ``scope`` that is still doing something (not a join waiting for others)."""
    return (task.workflow is scope and not isinstance(task.task_spec, Join | PathwayEventSubprocess)
            and task.has_state(_ACTIVE))


ONE_OFF = "startedOnPurpose"  # internal data of a task started outside the flow


class PathwayStateError(Exception):
    """A request the instance cannot honour in its current state (maps to HTTP 409)."""


class TaskNotReady(PathwayStateError):
    pass


class ExecutionError(Exception):
    """Running the model failed on the data it was given (a decision input of the wrong type,
    a FEEL error, a timer that gives no date). The caller's transaction must roll back."""


class NotWaitingForMessage(PathwayStateError):
    pass


class MessagePayloadMissing(Exception):
    """A message was correlated without a variable its waiting catch events declare (``payload``)."""

    def __init__(self, message: str, missing: list[str]) -> None:
        self.message, self.missing = message, missing
        super().__init__(f"message '{message}' must carry {', '.join(missing)}")


@dataclass(frozen=True)
class FiredTimer:
    element_id: str
    due: datetime


@contextmanager
def _execution() -> Iterator[None]:
    try:
        yield
    except WorkflowException as exc:
        raise ExecutionError(_reason(exc)) from exc


def _reason(exc: BaseException) -> str:
    """The innermost meaningful message (SpiffWorkflow wraps FEEL and decision errors)."""
    inner = exc.__cause__ or getattr(exc, "exception", None)
    detail = str(inner) if inner is not None and str(inner) else ""
    where = getattr(getattr(exc, "task_spec", None), "bpmn_id", None)
    text = str(exc)
    if detail and detail not in text:
        text = f"{text}: {detail}"
    return f"{where}: {text}" if where else text


class PathwayRuntime:
    def __init__(self, workflow: BpmnWorkflow, bundle: Bundle, clock: Clock) -> None:
        self.workflow = workflow
        self.bundle = bundle
        self.clock = clock
        self.pruned_done: set[str] = set()  # elements completed by history no longer in the state

    # -- life cycle --------------------------------------------------------------------------
    @classmethod
    def start(cls, bundle: Bundle, clock: Clock, variables: dict[str, Any] | None = None) -> PathwayRuntime:
        workflow = bundle.new_workflow(clock)
        start = workflow.get_next_task(spec_name="Start")
        start.data.update(variables or {})
        process_variables(workflow).update(variables or {})
        runtime = cls(workflow, bundle, clock)
        with _execution():
            runtime._advance()
        return runtime

    @classmethod
    def load(cls, state: dict[str, Any], bundle: Bundle, clock: Clock) -> PathwayRuntime:
        state = dict(state)
        pruned_done = state.pop(PRUNED_DONE, [])
        workflow = load_workflow(state, bundle.spec, bundle.subprocess_specs)
        workflow.script_engine = bundle.script_engine(clock)
        runtime = cls(workflow, bundle, clock)
        runtime.pruned_done = set(pruned_done)
        return runtime

    def dump(self) -> dict[str, Any]:
        """The instance's state without its spec (stored once per definition) and without the
        finished history execution no longer reads (:mod:`engine.models.prune`)."""
        self.pruned_done |= prune_history(self.workflow)
        state = dump_workflow(self.workflow)
        if self.pruned_done:
            state[PRUNED_DONE] = sorted(self.pruned_done)
        return state

    serializer_version = SERIALIZER_VERSION

    @property
    def status(self) -> str:
        return "completed" if self.workflow.is_completed() else "running"

    @property
    def data(self) -> dict[str, Any]:
        """The process variables (one instance-wide scope, as Camunda shows them)."""
        return dict(process_variables(self.workflow))

    # -- queries -----------------------------------------------------------------------------
    def _bpmn_tasks(self, state: TaskState):
        for task in self.workflow.get_tasks(state=state):
            if getattr(task.task_spec, "bpmn_id", None):
                yield task

    def active_elements(self) -> list[str]:
        return sorted({t.task_spec.bpmn_id for t in self._bpmn_tasks(_ACTIVE)})

    def completed_elements(self) -> list[str]:
        return sorted({t.task_spec.bpmn_id for t in self._bpmn_tasks(TaskState.COMPLETED)} | self.pruned_done)

    def ready_human_tasks(self) -> list[dict[str, Any]]:
        """What the task table projects: one row per ready user task."""
        rows = []
        for task in self.workflow.get_tasks(state=TaskState.READY, manual=True):
            spec = task.task_spec
            if not isinstance(spec, HumanTask):
                continue
            human = task._get_internal_data("human") or {}
            rows.append({
                "id": str(task.id),
                "elementId": spec.bpmn_id,
                "name": spec.bpmn_name or spec.bpmn_id,
                "lane": spec.lane,
                "form": spec.form,
                "documentation": spec.documentation,
                **human,
            })
        return rows

    def pending_timers(self) -> list[tuple[datetime, str]]:
        """(due, element id) of every waiting timer, earliest first.

        A timer behind an event-based gateway lives in the gateway's combined definition (the
        library moves it there); lint allows at most one timer per gateway, so the gateway task's
        own due time is that timer's.
        """
        pending = []
        for task in list(self.workflow.event_manager.tasks.values()):
            definition = getattr(task.task_spec, "event_definition", None)
            if not task.has_state(TaskState.WAITING):
                continue
            if isinstance(definition, MultipleEventDefinition):
                timers = [d for d in definition.event_definitions if isinstance(d, _TIMERS)]
                definition = timers[0] if len(timers) == 1 else None
            if isinstance(definition, _TIMERS):
                value = definition.details(task).value
                if isinstance(value, str):
                    pending.append((datetime.fromisoformat(value), task.task_spec.bpmn_id))
        return sorted(pending)

    def cancel_guards(self) -> list[tuple[str, str]]:
        """(element id, reason) of each running activity the model marks ``cancelGuard``: the
        pathway must not be cancelled while it runs."""
        guards = self.bundle.model.cancel_guards if self.bundle.model is not None else {}
        if not guards:
            return []
        found = set()
        for task in self._bpmn_tasks(_ACTIVE):
            reason = guards.get((task.workflow.spec.name, task.task_spec.bpmn_id))
            if reason:
                found.add((task.task_spec.bpmn_id, reason))
        return sorted(found)

    def next_due_at(self) -> datetime | None:
        pending = self.pending_timers()
        return pending[0][0] if pending else None

    def waiting_messages(self) -> list[str]:
        """Messages the pathway would accept now: waiting catch events and event sub-process triggers."""
        return sorted({name for name, _ in self.waiting_catchers()})

    def waiting_catchers(self) -> set[tuple[str, str]]:
        """(message name, catching element id) of every catch event that would take a message now."""
        catchers = set()
        for task in self.workflow.event_manager.tasks.values():
            definition = getattr(task.task_spec, "event_definition", None)
            parts = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
            if task.has_state(TaskState.WAITING):
                catchers.update((d.name, _catch_element(task.task_spec, d)) for d in parts if isinstance(d, PathwayMessage))
        catchers.update(self._event_subprocess_starts(PathwayMessage))
        return catchers

    def signal_starts(self) -> set[tuple[str, str]]:
        """(signal name, start event id) of every top-level event sub-process a signal would start now."""
        return self._event_subprocess_starts(SignalEventDefinition)

    def _event_subprocess_starts(self, kind: type) -> set[tuple[str, str]]:
        """(event name, start event id) of the top-level event sub-processes an event of this kind
        would start now: none once the pathway has ended or an interrupting one has started."""
        if self.workflow.is_completed() or self._interrupted():
            return set()
        return {(start.event_definition.name, start.bpmn_id)
                for spec_name in self.workflow.spec.start.trigger_specs
                for start in self.workflow.subprocess_specs[spec_name].bpmn_start_events
                if isinstance(start.event_definition, kind)}

    def required_payload(self, name: str, catchers: set[tuple[str, str]] | None = None) -> list[str]:
        """The variables a message must carry now: what its waiting catch events declare
        (``catchers``: :meth:`waiting_catchers`, when the caller has it already)."""
        model = self.bundle.model
        if model is None:
            return []
        waiting = self.waiting_catchers() if catchers is None else catchers
        return sorted({v for message, element in waiting if message == name
                       for v in model.declared_payloads.get((message, element), [])})

    # -- changes -----------------------------------------------------------------------------
    def _interrupted(self) -> bool:
        """True once an interrupting event sub-process has started: its scope accepts no more triggers."""
        return any(
            isinstance(task.task_spec, PathwayEventSubprocess) and task.task_spec.interrupting
            and task.has_state(TaskState.STARTED | TaskState.COMPLETED | TaskState.READY)
            and task.workflow is self.workflow
            for task in self.workflow.get_tasks(spec_class=PathwayEventSubprocess)
        )

    def complete_task(self, task_id: str, data: dict[str, Any]) -> dict[str, Any]:
        task = self._ready_human_task(task_id)
        task.data.update(data)
        process_variables(self.workflow).update(data)
        with _execution():
            task.run()
            if task._get_internal_data(ONE_OFF):
                task._drop_children(force=True)  # started on purpose: nothing follows it
            self._advance()
        return {"elementId": task.task_spec.bpmn_id}

    def start_on_purpose(self, element_id: str) -> str:
        """Offer a user task of this version now, outside the flow (a task a new version added on
        a path the patient has already passed): it is ready like any other, its answers are kept
        when it is completed, and nothing follows it. Returns the new task's id."""
        for workflow in (self.workflow, *self.workflow.subprocesses.values()):
            spec = workflow.spec.task_specs.get(element_id)
            if isinstance(spec, HumanTask):
                break
        else:
            raise TaskNotReady(f"'{element_id}' is not a user task of a process this pathway runs")
        task = workflow.task_tree._add_child(spec, TaskState.FUTURE)
        task._set_internal_data(**{ONE_OFF: True})
        with _execution():
            task._ready()
        return str(task.id)

    def _ready_human_task(self, task_id: str):
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, WorkflowException, KeyError):
            task = None
        if task is None or not isinstance(task.task_spec, HumanTask):
            raise TaskNotReady(f"task {task_id} is not part of this pathway")
        if not task.has_state(TaskState.READY):
            raise TaskNotReady(f"task {task_id} is {task.state_name.lower()}, not ready")
        return task

    def correlate_message(self, name: str, variables: dict[str, Any] | None = None) -> None:
        catchers = self.waiting_catchers()
        if name not in {message for message, _ in catchers}:
            raise NotWaitingForMessage(f"the pathway is not waiting for message '{name}'")
        missing = [v for v in self.required_payload(name, catchers) if (variables or {}).get(v) is None]
        if missing:
            raise MessagePayloadMissing(name, missing)
        process_variables(self.workflow).update(variables or {})
        payload = {"payload": {"variables": dict(variables or {})}, "result_var": None}
        with _execution():
            self.workflow.send_event(BpmnEvent(PathwayMessage(name), payload=payload))
            self._advance()

    def throw_signal(self, name: str, variables: dict[str, Any] | None = None) -> None:
        """Throw a signal into the pathway as one of its own tracks would, with the variables that
        track would have written. The service never does this (signals are the model's own); the
        verifier does, to start an event sub-process from a track it explores apart."""
        process_variables(self.workflow).update(variables or {})
        with _execution():
            self.workflow.send_event(BpmnEvent(SignalEventDefinition(name)))
            self._advance()

    def fire_due_timers(self, now: datetime | None = None, *, max_instants: int = MAX_CATCH_UP) -> list[FiredTimer]:
        """Fire every timer due at or before ``now``, one due instant at a time, in due order
        (at most ``max_instants`` instants: the service fires one at a time to keep due order
        across pathways).

        Each firing runs "as of" its due time, so work it starts (new timers, due dates) is
        anchored where it would have been had nobody been away.
        """
        now = now or self.clock.now()
        fired: list[FiredTimer] = []
        for _ in range(min(max_instants, MAX_CATCH_UP)):
            pending = self.pending_timers()
            if not pending or pending[0][0] > now:
                break
            due = pending[0][0]
            fired.extend(FiredTimer(element, at) for at, element in pending if at == due)
            self._with_clock(FixedClock(due, self.clock.tz), self._refresh)
        else:
            if max_instants >= MAX_CATCH_UP:
                raise PathwayStateError(f"more than {MAX_CATCH_UP} timer firings in one catch-up; check the model")
        return fired

    def _refresh(self) -> None:
        self.workflow.refresh_timers()
        self._settle()

    def _with_clock(self, clock: Clock, action) -> None:
        engine = self.workflow.script_engine
        saved = engine.clock
        engine.clock = clock
        try:
            action()
        finally:
            engine.clock = saved

    def _close_finished_scopes(self) -> bool:
        """End event sub-processes whose enclosing scope has nothing else left to do.

        BPMN: an event sub-process listens only while its parent scope is active. SpiffWorkflow
        keeps a timer-started one waiting forever, so the process (its end join) never completes.
        An untriggered one is cancelled; a cycle that already started work is disarmed and the
        work it started finishes normally.
        """
        changed = False
        for scope in (self.workflow, *self.workflow.subprocesses.values()):
            listeners = [t for t in scope.get_tasks(spec_class=PathwayEventSubprocess, state=_ACTIVE)
                         if t.workflow is scope]
            if not listeners or any(_is_busy(t, scope) for t in scope.get_tasks(state=_ACTIVE)):
                continue
            for listener in listeners:
                sub = self.workflow.subprocesses.get(listener.id)
                triggers = [t for t in sub.get_tasks(state=TaskState.WAITING) if t.workflow is sub
                            and isinstance(t.task_spec, PathwayStartEvent)] if sub else []
                live = sub is not None and any(_is_busy(t, sub) and t not in triggers
                                               for t in sub.get_tasks(state=_ACTIVE))
                if not live:
                    listener.cancel()
                    # The end join only re-checks its inputs when told; nothing else will tell it.
                    scope.update_waiting_tasks()
                    changed = True
                    continue
                for trigger in triggers:
                    value = trigger._get_internal_data("event_value")
                    if isinstance(value, dict) and value.get("cycles"):
                        value["cycles"] = 0
                        trigger._set_internal_data(event_value=value)
                        changed = True
        return changed

    def _settle(self) -> None:
        """Run engine steps until only people and events are awaited, closing finished scopes."""
        self.workflow.do_engine_steps()
        for _ in range(3):
            if not self._close_finished_scopes():
                break
            self.workflow.do_engine_steps()
            self.workflow.do_engine_steps()

    def _advance(self) -> None:
        self._settle()
        # The library refreshes timers once at the end of do_engine_steps; timers reached during
        # that refresh may already be due (a P0D, or a date in the past), so settle them now.
        self.fire_due_timers()


def _catch_element(spec: Any, definition: Any) -> str:
    """The catch event that takes a message: itself, or, behind an event-based gateway, the
    gateway's target for this definition (the library moves its targets' definitions into the
    gateway, in the order of its outputs); what the model declares (e.g. the payload a message
    must carry) is on that catch event."""
    combined = spec.event_definition
    if isinstance(combined, MultipleEventDefinition) and definition in combined.event_definitions:
        index = combined.event_definitions.index(definition)
        if index < len(spec.outputs):
            return spec.outputs[index].bpmn_id
    return spec.bpmn_id
