"""Timer event definitions that take "now" from our clock and do Camunda's calendar arithmetic.

SpiffWorkflow's timers read ``datetime.now`` directly and evaluate the timer text as Python, so
``<timeDuration>P3M</timeDuration>`` crashes on the day it is reached. These subclasses keep the
library's state layout (``internal_data['event_value']`` holds the due time as ISO text, so
``workflow.waiting_events()`` still works) and change only where time and text come from.

A timer fires when ``due <= now`` (the library uses ``<``), so a simulated clock set exactly to
the due instant fires it, which is what "fires when due" means to a clinician.
"""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)
from SpiffWorkflow.bpmn.util import PendingBpmnEvent
from SpiffWorkflow.util.task import TaskState

from ..isotime import IsoCycle, IsoDuration


def _engine(my_task):
    return my_task.workflow.top_workflow.script_engine


def _now(my_task) -> datetime:
    return _engine(my_task).clock.now()


def _fired_when_due(my_task, compute_due) -> bool:
    """Compute the due instant once (kept as ISO text in ``event_value``, the library's layout)
    and mark the timer fired once the clock reaches it."""
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        event_value = compute_due().isoformat()
        # when the timer was reached: a migration can recompute the due time as the new version
        # would have set it then (engine/migration_plan.py)
        my_task._set_internal_data(event_value=event_value, event_reached=_now(my_task).isoformat())
    if datetime.fromisoformat(event_value) <= _now(my_task):
        my_task._set_internal_data(event_fired=True)
    return my_task._get_internal_data("event_fired", False)


class ClockTimeDate(TimeDateEventDefinition):
    """``timeDate``: an ISO date-time or a FEEL expression giving a date/date-time."""

    def has_fired(self, my_task) -> bool:
        return _fired_when_due(my_task, lambda: _engine(my_task).timer_instant(my_task, self.expression))


class ClockDuration(DurationTimerEventDefinition):
    """``timeDuration``: ``P3M``, ``P6W`` … counted from when the timer is reached."""

    def has_fired(self, my_task) -> bool:
        def due() -> datetime:
            engine = _engine(my_task)
            duration = engine.timer_duration(my_task, self.expression)
            now = _now(my_task)
            return duration.add_to(now, engine.clock.tz) if isinstance(duration, IsoDuration) else now + duration

        return _fired_when_due(my_task, due)


class ClockCycle(CycleTimerEventDefinition):
    """``timeCycle``: ``R3/P2W``, ``R/P6M``, ``R5/<start>/P1D``.

    Occurrences follow Camunda 7 (each one is the previous plus the interval); one occurrence
    fires per refresh, and the runtime's catch-up loop refreshes again until nothing overdue
    remains.
    """

    def cycle_complete(self, my_task) -> bool:
        engine = _engine(my_task)
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            cycle = engine.timer_cycle(my_task, self.expression)
            event_value = {
                "cycles": -1 if cycle.repetitions is None else cycle.repetitions,
                "index": 0,
                "anchor": _now(my_task).isoformat(),
                "next": cycle.occurrence(0, _now(my_task), engine.clock.tz).isoformat(),
                "end": cycle.end.isoformat() if cycle.end else None,
            }
        ready = False
        next_due = datetime.fromisoformat(event_value["next"])
        past_end = event_value.get("end") and next_due > datetime.fromisoformat(event_value["end"])
        if event_value["cycles"] != 0 and not past_end:
            if next_due <= _now(my_task):
                cycle: IsoCycle = engine.timer_cycle(my_task, self.expression)
                event_value["index"] += 1
                anchor = datetime.fromisoformat(event_value["anchor"])
                event_value["next"] = cycle.occurrence(event_value["index"], anchor, engine.clock.tz).isoformat()
                if event_value["cycles"] > 0:
                    event_value["cycles"] -= 1
                ready = True
        else:
            event_value["cycles"] = 0
            my_task._set_internal_data(event_fired=True)
        my_task._set_internal_data(event_value=event_value)
        return ready

    def details(self, my_task):
        event_value = my_task._get_internal_data("event_value")
        done = my_task._get_internal_data("event_fired", False) or not event_value or event_value["cycles"] == 0
        return PendingBpmnEvent(self.name, self.__class__.__name__, None if done else event_value["next"])

    def update_task(self, my_task) -> None:
        if self.cycle_complete(my_task):
            for output in my_task.task_spec.outputs:
                child = my_task._add_child(output, TaskState.FUTURE)
                child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)
                child.task_spec._update(child)
