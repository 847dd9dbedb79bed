"""What a migration does to one patient beyond moving their waiting elements, and the lead's
choices about it: the dry run and the real migration both run this, so the real one does exactly
what the dry run said.

- **Decisions**: each decision the patient has already run is evaluated with the old and the
  new version's tables on the patient's current data; where the two answer differently it is
  listed, with the result the patient has stored. A
  decision marked ``refreshOnMigration`` (a stored copy of policy) takes the new result unless
  the lead keeps the old one; any other keeps its result unless the lead refreshes it.
- **Timers**: each waiting timer keeps its due time (Camunda 7's default) unless the lead chooses
  to recompute it as the new version would have set it when the timer was reached (after any
  refreshed decision, which a timer's expression may read).
- **Added tasks the patient will not get**: user tasks the new version adds where no waiting
  element of this patient can still lead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState

from .clock import SimulatedClock
from .decisions import DecisionError
from .decisions.jsonvalue import dumps, json_friendly
from .isotime import IsoDuration
from .models.bundle import Bundle
from .models.script_engine import process_variables
from .models.specs import DecisionTask, HumanTask
from .models.timers import ClockDuration, ClockTimeDate

DECISION_CHOICES = ("keep", "refresh")
TIMER_CHOICES = ("keep", "recompute")
ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


class PlanChoiceError(ValueError):
    """A choice names an element the plan has no such entry for, or an unknown option."""


def _plain(value: Any) -> Any:
    """A decision value as the report and the audit trail hold it: JSON (decimals as numbers)."""
    return json.loads(dumps(json_friendly(value)))


def check_choices(choices: Mapping[str, str], allowed: tuple[str, ...], listed: Iterable[str], what: str) -> None:
    """Each choice is one of ``allowed``, for an element the plan lists."""
    for element, choice in choices.items():
        if choice not in allowed:
            raise PlanChoiceError(f"{what} '{element}': '{choice}' is not one of {', '.join(allowed)}")
    check_listed(choices, listed, what)


def check_listed(elements: Iterable[str], listed: Iterable[str], what: str) -> None:
    """Each element chosen for is one the plan lists for this patient."""
    known = set(listed)
    for element in elements:
        if element not in known:
            raise PlanChoiceError(f"this patient has no {what} '{element}' to choose for"
                                  + (f" (the plan lists {', '.join(sorted(known))})" if known else ""))


def plan_decisions(workflow: Any, source: Any, target: Bundle, done: set[str],
                   choices: Mapping[str, str]) -> list[dict[str, Any]]:
    """Decisions already run that the new version decides differently from the old one on the
    patient's current data (a decision that reads the date differs from its stored result every
    day: that is not the new version's doing); applies the choices. ``source`` is the old
    version's script engine, the workflow's own is the new one's."""
    engine = workflow.script_engine
    variables = process_variables(workflow)
    entries = []
    for spec in _specs(target, DecisionTask):
        if spec.bpmn_id not in done or not spec.result_variable:
            continue
        entry = {"elementId": spec.bpmn_id, "decision": spec.decision_ref, "variable": spec.result_variable,
                 "current": _plain(variables.get(spec.result_variable)), "refreshOnMigration": spec.refresh_on_migration}
        try:
            _, values = engine.decide(spec, dict(variables))
        except DecisionError as exc:
            entries.append({**entry, "new": None, "choice": "keep",
                            "note": f"the new version's table cannot be evaluated on the current data: {exc}"})
            continue
        new = values[spec.result_variable]
        try:
            _, before = source.decide(spec, dict(variables))
            if _plain(before[spec.result_variable]) == _plain(new):
                continue  # the same answer from both versions
        except DecisionError:
            pass  # the old version cannot answer now: the new one's answer is news
        choice = choices.get(spec.bpmn_id, "refresh" if spec.refresh_on_migration else "keep")
        if choice == "refresh":
            variables[spec.result_variable] = new
        entries.append({**entry, "new": _plain(new), "choice": choice,
                        "differences": _differences(entry["current"], _plain(new))})
    return entries


def _differences(current: Any, new: Any) -> list[dict[str, Any]]:
    """What a lead compares: for a result with named outputs, only the outputs that differ."""
    if isinstance(current, dict) and isinstance(new, dict):
        return [{"output": k, "current": current.get(k), "new": new.get(k)}
                for k in sorted(set(current) | set(new)) if current.get(k) != new.get(k)]
    return [{"output": None, "current": current, "new": new}]


def recomputed_due(task: Any, target: Bundle, reached: datetime) -> str | None:
    """The due time ``target``'s timer would have had, reached at ``reached`` (None: a cycle)."""
    definition = getattr(task.task_spec, "event_definition", None)
    engine = target.script_engine(SimulatedClock(reached))
    if isinstance(definition, ClockTimeDate):
        return engine.timer_instant(task, definition.expression).isoformat()
    if isinstance(definition, ClockDuration):
        duration = engine.timer_duration(task, definition.expression)
        due = duration.add_to(reached, engine.clock.tz) if isinstance(duration, IsoDuration) else reached + duration
        return due.isoformat()
    return None


def plan_timer(task: Any, target: Bundle, due_before: str, choice: str) -> dict[str, Any]:
    """One waiting timer: kept and recomputed due times; applies the choice."""
    element = task.task_spec.bpmn_id
    reached = task._get_internal_data("event_reached")
    entry: dict[str, Any] = {"elementId": element, "due": due_before, "choice": choice}
    if reached is None:
        entry["dueIfRecomputed"] = None
        entry["note"] = "reached before reach times were recorded: only keeping is possible"
    else:
        try:
            entry["dueIfRecomputed"] = recomputed_due(task, target, datetime.fromisoformat(reached))
        except Exception as exc:  # noqa: BLE001 - an expression the new version cannot evaluate here
            entry["dueIfRecomputed"] = None
            entry["note"] = f"the new version's timer cannot be evaluated for this patient: {exc}"
    recomputed = entry["dueIfRecomputed"]
    if choice == "recompute":
        if recomputed is None:
            raise PlanChoiceError(f"timer '{element}' cannot be recomputed: {entry.get('note', 'a cycle')}")
        task._set_internal_data(event_value=recomputed)
    elif recomputed is not None and recomputed != due_before:
        later = datetime.fromisoformat(due_before) > datetime.fromisoformat(recomputed)
        entry["note"] = (f"kept, it fires {'later' if later else 'earlier'} than the new version would "
                         f"({recomputed})" + ("; what the new version dates from then starts overdue" if later else ""))
    entry["dueAfter"] = recomputed if choice == "recompute" else due_before
    entry["kept"] = entry["dueAfter"] == due_before
    return entry


def unreached_added_tasks(workflow: Any, target: Bundle, added: Iterable[str]) -> list[dict[str, Any]]:
    """User tasks ``target`` adds that no waiting element of this patient can still lead to."""
    specs = {s.bpmn_id: s for s in _specs(target, HumanTask)}
    wanted = [a for a in sorted(set(added)) if a in specs]
    if not wanted:
        return []
    reachable = _reachable(workflow, target)
    return [{"elementId": a, "name": specs[a].bpmn_name or a,
             "reason": "added where this patient has already passed: they will not get it"}
            for a in wanted if a not in reachable]


def _reachable(workflow: Any, target: Bundle) -> set[str]:
    """Every element id reachable from the patient's active elements in ``target``'s specs,
    into called and embedded sub-processes, and every element of an event sub-process of a
    running process (it may start at any time)."""
    seen: set[int] = set()
    found: set[str] = set()
    stack = [t.task_spec for wf in [workflow, *workflow.subprocesses.values()] for t in wf.get_tasks(state=ACTIVE)]
    for spec in [target.spec, *target.subprocess_specs.values()]:
        if any(t.task_spec in spec.task_specs.values() for t in workflow.get_tasks(state=ACTIVE)):
            stack.extend(s for s in spec.task_specs.values() if type(s).__name__ == "PathwayEventSubprocess")
    while stack:
        spec = stack.pop()
        if id(spec) in seen:
            continue
        seen.add(id(spec))
        if getattr(spec, "bpmn_id", None):
            found.add(spec.bpmn_id)
        stack.extend(spec.outputs)
        sub = target.subprocess_specs.get(getattr(spec, "spec", None) or "")
        if sub is not None:
            stack.append(sub.start)
    return found


def _specs(target: Bundle, kind: type) -> list[Any]:
    return [s for spec in [target.spec, *target.subprocess_specs.values()] for s in spec.task_specs.values()
            if isinstance(s, kind)]
