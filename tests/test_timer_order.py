"""After downtime, overdue timers fire in due order across pathways, not pathway by pathway."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.service import Service

TIMERS = Path(__file__).parent / "fixtures" / "timers" / "feel_timers.bpmn"


def test_catch_up_interleaves_pathways_by_due_time(session_factory: sessionmaker[Session]) -> None:
    clock = SimulatedClock(datetime(2026, 1, 31, 9, 0, tzinfo=UTC))
    svc = Service(session_factory, clock)
    svc.deploy({TIMERS.name: TIMERS.read_bytes()}, actor="lead")
    late = svc.enroll("feel_timers", actor="coordinator", variables={"appointmentDate": date(2026, 3, 10)})
    early = svc.enroll("feel_timers", actor="coordinator", variables={"appointmentDate": date(2026, 3, 5)})

    clock.set(datetime(2026, 6, 1, tzinfo=UTC))
    steps = [(r["pathwayId"], f["elementId"], f["due"]) for r in svc.fire_due_timers() for f in r["fired"]]

    dues = [due for _, _, due in steps]
    assert dues == sorted(dues)
    assert len(steps) == 6  # three timers each, each fired once
    day_before = [(pid, due) for pid, element, due in steps if element == "Timer_day_before"]
    assert day_before == [(early, "2026-03-04T00:00:00+00:00"), (late, "2026-03-09T00:00:00+00:00")]
    assert svc.fire_due_timers() == []
