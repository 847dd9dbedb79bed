"""Moving a running instance to another version of its definition.

Built on SpiffWorkflow's ``SpiffWorkflow.bpmn.util.diff``: task specs are aligned by BPMN id (then
by structure), every task gets its new spec, and READY/WAITING tasks are reset so they re-predict
against the new model. The library's reset clears each task's internal data, which would restart
every waiting timer from "now" and recompute every open task's due date; we put that data back
for tasks whose element did not change, so timers keep their due times and tasks their dates.

A migration is refused (``report.blocking``) when an active element no longer exists in the
target version, or a running sub-process's definition is gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from .migration_plan import (
    DECISION_CHOICES,
    TIMER_CHOICES,
    check_choices,
    check_listed,
    plan_decisions,
    plan_timer,
    unreached_added_tasks,
)
from .models.bundle import Bundle
from .models.serializer import make_serializer
from .models.timers import ClockCycle, ClockDuration, ClockTimeDate
from .runtime import PathwayRuntime

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
RESET = TaskState.READY | TaskState.WAITING
_TIMERS = (ClockTimeDate, ClockDuration, ClockCycle)


@dataclass
class MigrationReport:
    moves: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    timers: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    not_reached: list[dict[str, Any]] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)

    @property
    def possible(self) -> bool:
        return not self.blocking

    def to_dict(self) -> dict[str, Any]:
        return {"possible": self.possible, "blocking": self.blocking, "moves": self.moves,
                "changed": self.changed, "added": sorted(set(self.added)), "timers": self.timers,
                "decisions": self.decisions, "addedNotReached": self.not_reached}


@dataclass(frozen=True)
class Choices:
    """The lead's choices for one patient: per waiting timer ``keep``/``recompute``, per decision
    ``keep``/``refresh`` (defaults: keep; refresh for a decision marked ``refreshOnMigration``)."""

    timers: Mapping[str, str] = field(default_factory=dict)
    decisions: Mapping[str, str] = field(default_factory=dict)
    # added user tasks the patient would not get, to start for them now, outside the flow
    start: tuple[str, ...] = ()


def _bpmn_id(spec: Any) -> str | None:
    return getattr(spec, "bpmn_id", None)


def _timer_due(task: Any) -> str | None:
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, _TIMERS) or not task.has_state(TaskState.WAITING):
        return None
    value = definition.details(task).value
    return value if isinstance(value, str) else None


def _snapshot(workflow: Any) -> dict[Any, tuple[dict[str, Any], dict[str, Any], str | None]]:
    """internal data, data and timer due of every task that the library's reset would clear."""
    saved = {}
    for wf in [workflow, *workflow.subprocesses.values()]:
        for task in wf.get_tasks(state=RESET, skip_subprocesses=True):
            saved[task.id] = (dict(task.internal_data), dict(task.data), _timer_due(task))
    return saved


def _diff_one(registry: Any, wf: Any, new_spec: Any, report: MigrationReport, where: str) -> WorkflowDiff:
    spec_diff = SpecDiff(registry, wf.spec, new_spec)
    diff = WorkflowDiff(wf, spec_diff)
    report.added.extend(b for b in (_bpmn_id(s) for s in spec_diff.added) if b)
    changed_specs = spec_diff.changed
    for task in wf.get_tasks(state=ACTIVE, skip_subprocesses=True):
        element = _bpmn_id(task.task_spec)
        if element is None:
            continue
        target = spec_diff.alignment.get(task.task_spec)
        if target is None:
            report.blocking.append(f"active element '{element}' ({where}) does not exist in the target version")
            continue
        report.moves.append({"elementId": element, "to": _bpmn_id(target) or target.name,
                             "state": TaskState.get_name(task.state).lower()})
        if task.task_spec in changed_specs:
            report.changed.append({"elementId": element, "attributes": sorted(changed_specs[task.task_spec])})
    return diff


def migrate_runtime(runtime: PathwayRuntime, target: Bundle,
                    choices: Choices | None = None) -> tuple[PathwayRuntime, MigrationReport]:
    """Migrate ``runtime`` in place to ``target``'s specs; returns the runtime on the new bundle.

    When the report has ``blocking`` entries nothing was changed. Callers wanting a dry run pass
    a throw-away runtime (load it again from the stored state) and the same ``choices``: the
    report is then exactly what the real migration does. A choice for an element the plan does
    not list raises ``PlanChoiceError``.
    """
    choices = choices or Choices()
    registry = make_serializer().registry
    workflow = runtime.workflow
    report = MigrationReport()
    top = _diff_one(registry, workflow, target.spec, report, "top level")
    sub_diffs: dict[Any, tuple[WorkflowDiff, Any]] = {}
    for sp_id, sub in workflow.subprocesses.items():
        new_spec = target.subprocess_specs.get(sub.spec.name)
        if new_spec is None:
            report.blocking.append(f"running sub-process '{sub.spec.name}' does not exist in the target version")
            continue
        sub_diffs[sp_id] = (_diff_one(registry, sub, new_spec, report, f"in {sub.spec.name}"), new_spec)
    if report.blocking:
        return runtime, report

    saved = _snapshot(workflow)
    source = workflow.script_engine  # the old version's tables, to tell its answers from the new one's
    changed_ids = {m["elementId"] for m in report.changed}
    migrate_workflow(top, workflow, target.spec, reset_mask=RESET)
    for sp_id, (diff, new_spec) in sub_diffs.items():
        migrate_workflow(diff, workflow.subprocesses[sp_id], new_spec, reset_mask=RESET)
    workflow.subprocess_specs = dict(target.subprocess_specs)
    workflow.script_engine = target.script_engine(runtime.clock)

    timers = []
    for wf in [workflow, *workflow.subprocesses.values()]:
        for task in wf.get_tasks(state=RESET, skip_subprocesses=True):
            if task.id not in saved:
                continue
            internal, data, due_before = saved[task.id]
            element = _bpmn_id(task.task_spec)
            keep = element not in changed_ids
            if keep:
                task.internal_data = dict(internal)
                task.data = dict(data)
            else:
                # As in Camunda 7 migration, an open task keeps its due date, groups and creation
                # time and a waiting timer its due time, even when the element's definition changed.
                for name in ("human", "event_value", "event_reached"):
                    if name in internal:
                        task.internal_data[name] = internal[name]
            if due_before is not None:
                timers.append((task, due_before))
    done = {_bpmn_id(t.task_spec) for t in workflow.get_tasks(state=TaskState.COMPLETED)} | runtime.pruned_done
    report.decisions = plan_decisions(workflow, source, target, done, choices.decisions)
    check_choices(choices.decisions, DECISION_CHOICES, [d["elementId"] for d in report.decisions], "decision")
    check_choices(choices.timers, TIMER_CHOICES, [_bpmn_id(t.task_spec) for t, _ in timers], "waiting timer")
    report.timers = [plan_timer(task, target, due, choices.timers.get(_bpmn_id(task.task_spec), "keep"))
                     for task, due in timers]
    report.not_reached = unreached_added_tasks(workflow, target, report.added)
    check_listed(choices.start, [t["elementId"] for t in report.not_reached], "added task not reached")
    migrated = PathwayRuntime(workflow, target, runtime.clock)
    for entry in report.not_reached:
        entry["start"] = entry["elementId"] in choices.start
        if entry["start"]:
            migrated.start_on_purpose(entry["elementId"])
    migrated.pruned_done = set(runtime.pruned_done)  # history pruned before the move was still done
    return migrated, report
