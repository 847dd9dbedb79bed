"""Timers as Camunda computes them, driven by a SimulatedClock through the service layer.

Fixtures in tests/fixtures/timers are small Camunda-Modeler style models:

- ``month_end.bpmn``: ``timeDuration P1M`` then a task with ``camunda:dueDate="P1M"``;
- ``cycle.bpmn``: a non-interrupting event sub-process started by ``timeCycle R3/P1M`` creates a
  reminder task each month while the main task is open;
- ``feel_timers.bpmn``: ``timeDate ${appointmentDate - duration("P1D")}``,
  ``timeDuration ${duration("P6W")}`` and Camunda 8's ``=duration("P1M")``, in parallel.

Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.service import Service
from engine.store import AuditEvent

TIMERS = Path(__file__).parent / "fixtures" / "timers"
SECOND = timedelta(seconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def at(instant: datetime) -> str:
    return instant.isoformat()


def deploy(svc: Service, name: str) -> str:
    return svc.deploy({f"{name}.bpmn": (TIMERS / f"{name}.bpmn").read_bytes()}, actor="lead:dana")["key"]


def ready(svc: Service, pid: str) -> list[tuple[str, str, str | None]]:
    """(element id, created, due) of the pathway's ready tasks, oldest first."""
    items = svc.tasks(pathway_id=pid)["items"]
    return sorted((t["elementId"], t["createdAt"], t["due"]) for t in items)


def advance_and_fire(svc: Service, clock: SimulatedClock, to: datetime) -> list[tuple[str, str]]:
    """Move the clock and fire; returns (element id, due) of every timer fired, in firing order."""
    clock.set(to)
    return [(t["elementId"], t["due"]) for result in svc.fire_due_timers() for t in result["fired"]]


def timer_audits(session_factory: sessionmaker[Session], pid: str) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.instance_id == pid, AuditEvent.action == "timer.fire"))


# -- month arithmetic ----------------------------------------------------------------------------
@pytest.mark.parametrize(("start", "due", "task_due"), [
    # Reached Jan 31: fires Feb 28 (clamped, as java.util.Calendar), not Mar 3; the task it
    # creates then has dueDate P1M from Feb 28, i.e. Mar 28.
    (utc(2026, 1, 31, 9), utc(2026, 2, 28, 9), utc(2026, 3, 28, 9)),
    (utc(2028, 1, 31, 9), utc(2028, 2, 29, 9), utc(2028, 3, 29, 9)),  # leap year
    (utc(2026, 3, 31, 9), utc(2026, 4, 30, 9), utc(2026, 5, 30, 9)),
    (utc(2026, 12, 31, 23, 30), utc(2027, 1, 31, 23, 30), utc(2027, 2, 28, 23, 30)),  # year end
])
def test_p1m_timer_reached_at_month_end_fires_on_the_clamped_day(
    session_factory: sessionmaker[Session], start: datetime, due: datetime, task_due: datetime
) -> None:
    clock = SimulatedClock(start)
    svc = Service(session_factory, clock)
    pid = svc.enroll(deploy(svc, "month_end"), actor="coordinator:ann")
    assert svc.pathway(pid)["timers"] == [{"elementId": "Timer_1m", "due": at(due)}]
    assert svc.pathway(pid)["nextDueAt"] == at(due)

    assert advance_and_fire(svc, clock, due - SECOND) == []
    assert ready(svc, pid) == []
    assert svc.pathway(pid)["nextDueAt"] == at(due)
    assert advance_and_fire(Service(session_factory, clock), clock, due) == [("Timer_1m", at(due))]
    assert ready(svc, pid) == [("Task_review", at(due), at(task_due))]
    assert svc.pathway(pid)["nextDueAt"] is None
    assert advance_and_fire(svc, clock, task_due) == []
    assert timer_audits(session_factory, pid) == 1


# -- cycles ----------------------------------------------------------------------------------------
def test_r3_p1m_cycle_fires_exactly_three_times_each_when_due(session_factory: sessionmaker[Session]) -> None:
    clock = SimulatedClock(utc(2026, 1, 15, 10))
    svc = Service(session_factory, clock)
    pid = svc.enroll(deploy(svc, "cycle"), actor="coordinator:ann")
    occurrences = [utc(2026, 2, 15, 10), utc(2026, 3, 15, 10), utc(2026, 4, 15, 10)]

    for n, due in enumerate(occurrences, start=1):
        assert svc.pathway(pid)["nextDueAt"] == at(due)
        assert advance_and_fire(svc, clock, due - SECOND) == []
        assert len(ready(svc, pid)) == n  # Task_await + n-1 reminders
        # A new Service each time: the cycle's position lives in the database, not in memory.
        assert advance_and_fire(Service(session_factory, clock), clock, due) == [("Timer_cycle", at(due))]
        reminders = [r for r in ready(svc, pid) if r[0] == "Task_remind"]
        assert reminders[-1] == ("Task_remind", at(due), at(due + timedelta(weeks=1)))
        assert len(reminders) == n

    view = svc.pathway(pid)
    assert view["nextDueAt"] is None and view["timers"] == []
    assert advance_and_fire(svc, clock, utc(2027, 1, 1)) == []  # no fourth occurrence, ever
    assert [r[0] for r in ready(svc, pid)] == ["Task_await"] + ["Task_remind"] * 3
    assert timer_audits(session_factory, pid) == 3
    assert view["status"] == "running" and "Task_await" in view["activeElements"]


def test_r3_cycle_after_downtime_catches_up_three_occurrences_in_order(
    session_factory: sessionmaker[Session]
) -> None:
    clock = SimulatedClock(utc(2026, 1, 15, 10))
    svc = Service(session_factory, clock)
    pid = svc.enroll(deploy(svc, "cycle"), actor="coordinator:ann")
    occurrences = [utc(2026, 2, 15, 10), utc(2026, 3, 15, 10), utc(2026, 4, 15, 10)]

    fired = advance_and_fire(Service(session_factory, clock), clock, utc(2026, 9, 1))
    assert fired == [("Timer_cycle", at(due)) for due in occurrences]
    # Each reminder is anchored where it would have been: created at its occurrence, due a week later.
    assert [r for r in ready(svc, pid) if r[0] == "Task_remind"] == [
        ("Task_remind", at(due), at(due + timedelta(weeks=1))) for due in occurrences]
    assert svc.fire_due_timers() == []
    assert timer_audits(session_factory, pid) == 3  # one transaction and audit event per occurrence


def _await_task(svc: Service, pid: str) -> dict:
    (task,) = [t for t in svc.tasks(pathway_id=pid)["items"] if t["elementId"] == "Task_await"]
    return task


def test_cycle_stops_when_the_main_flow_ends_before_it_fired(session_factory: sessionmaker[Session]) -> None:
    # BPMN: an event sub-process listens only while its parent scope is active.
    clock = SimulatedClock(utc(2026, 1, 15, 10))
    svc = Service(session_factory, clock)
    pid = svc.enroll(deploy(svc, "cycle"), actor="coordinator:ann")
    clock.set(utc(2026, 1, 20, 10))
    svc.complete(_await_task(svc, pid)["id"], {}, actor="clinician:bob")
    view = svc.pathway(pid)
    assert (view["status"], view["nextDueAt"], view["timers"]) == ("completed", None, [])
    assert advance_and_fire(svc, clock, utc(2026, 12, 1)) == []
    assert ready(svc, pid) == [] and timer_audits(session_factory, pid) == 0


def test_reminders_already_started_finish_after_the_main_flow_ends(session_factory: sessionmaker[Session]) -> None:
    clock = SimulatedClock(utc(2026, 1, 15, 10))
    svc = Service(session_factory, clock)
    pid = svc.enroll(deploy(svc, "cycle"), actor="coordinator:ann")
    first = utc(2026, 2, 15, 10)
    advance_and_fire(svc, clock, first)
    clock.set(utc(2026, 2, 20, 10))
    svc.complete(_await_task(svc, pid)["id"], {}, actor="clinician:bob")

    # The open reminder stays (non-interrupting work is never lost); no further reminders come.
    assert ready(svc, pid) == [("Task_remind", at(first), at(first + timedelta(weeks=1)))]
    view = svc.pathway(pid)
    assert (view["status"], view["nextDueAt"]) == ("running", None)
    assert advance_and_fire(svc, clock, utc(2026, 12, 1)) == []
    (reminder,) = svc.tasks(pathway_id=pid)["items"]
    svc.complete(reminder["id"], {}, actor="coordinator:ann")
    assert svc.pathway(pid)["status"] == "completed"
    assert timer_audits(session_factory, pid) == 1


# -- FEEL timers ------------------------------------------------------------------------------------
def test_feel_time_date_and_feel_durations(session_factory: sessionmaker[Session]) -> None:
    clock = SimulatedClock(utc(2026, 1, 31, 9))
    svc = Service(session_factory, clock)
    pid = svc.enroll(deploy(svc, "feel_timers"), actor="coordinator:ann",
                     variables={"appointmentDate": date(2026, 3, 10)})
    one_month = utc(2026, 2, 28, 9)  # =duration("P1M"): a years-months duration, Java month arithmetic
    day_before = utc(2026, 3, 9)  # ${appointmentDate - duration("P1D")}: a date, so midnight UTC
    six_weeks = utc(2026, 3, 14, 9)  # ${duration("P6W")}
    assert svc.pathway(pid)["timers"] == [
        {"elementId": "Timer_month", "due": at(one_month)},
        {"elementId": "Timer_day_before", "due": at(day_before)},
        {"elementId": "Timer_six_weeks", "due": at(six_weeks)},
    ]

    expected_tasks: list[tuple[str, str, None]] = []
    for element, task, due in (("Timer_month", "Task_month", one_month),
                               ("Timer_day_before", "Task_prepare", day_before),
                               ("Timer_six_weeks", "Task_six_weeks", six_weeks)):
        assert advance_and_fire(svc, clock, due - SECOND) == []
        assert ready(svc, pid) == sorted(expected_tasks)
        assert advance_and_fire(svc, clock, due) == [(element, at(due))]
        expected_tasks.append((task, at(due), None))
        assert ready(svc, pid) == sorted(expected_tasks)
    assert svc.pathway(pid)["nextDueAt"] is None


def test_feel_time_date_in_the_past_fires_at_enrolment(session_factory: sessionmaker[Session]) -> None:
    # An appointment tomorrow: "the day before" is already over, so the timer fires at once.
    clock = SimulatedClock(utc(2026, 3, 9, 15))
    svc = Service(session_factory, clock)
    pid = svc.enroll(deploy(svc, "feel_timers"), actor="coordinator:ann",
                     variables={"appointmentDate": date(2026, 3, 10)})
    assert [r[0] for r in ready(svc, pid)] == ["Task_prepare"]
    assert {t["elementId"] for t in svc.pathway(pid)["timers"]} == {"Timer_month", "Timer_six_weeks"}
