"""Timers that fell due while the service was down fire once each, in due order, after a restart.

Pathways are enrolled by one "process" (engine + session factory + Service); a second, brand-new
one on the same database URL comes up much later and fires what is overdue. Work created by a
late timer is anchored at the timer's original due instant, not at the restart.

``tests/fixtures/timers/restart.bpmn``: timer ``${duration(wait)}`` -> "Review" task with
``camunda:dueDate="P1W"`` and ``camunda:followUpDate="${now() + duration("P2D")}"``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.service import TIMER_ACTOR, Service
from engine.store import AuditEvent, make_engine, make_session_factory

FIXTURES = Path(__file__).parent / "fixtures"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DOWNTIME_END = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)  # long after every timer below


def at(instant: datetime) -> str:
    return instant.isoformat()


def timer_events(factory: sessionmaker[Session]) -> list[AuditEvent]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "timer.fire")
                                    .order_by(AuditEvent.id)))


def audit_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.fixture
def restarted(db_url: str) -> Iterator[tuple[sessionmaker[Session], SimulatedClock]]:
    """A second process on the same database: new engine, new session factory, clock far ahead."""
    engine = make_engine(db_url)
    try:
        yield make_session_factory(engine), SimulatedClock(DOWNTIME_END)
    finally:
        engine.dispose()


def enroll_waits(session_factory: sessionmaker[Session]) -> dict[str, datetime]:
    """Enrol pathways (at different times, in an order unlike their due order); pid -> due."""
    clock = SimulatedClock(T0)
    svc = Service(session_factory, clock)
    svc.deploy({"restart.bpmn": (FIXTURES / "timers" / "restart.bpmn").read_bytes()}, actor="lead:dana")
    dues: dict[str, datetime] = {}
    for offset, wait in ((timedelta(0), "P10D"), (timedelta(hours=2), "P3D"), (timedelta(days=1), "PT36H"),
                         (timedelta(days=1, hours=1), "P1M"), (timedelta(days=2), "P5D")):
        clock.set(T0 + offset)
        pid = svc.enroll("wait_then_review", actor="coordinator:ann", variables={"wait": wait})
        dues[pid] = datetime.fromisoformat(svc.pathway(pid)["nextDueAt"])
    assert svc.fire_due_timers() == []  # nothing is due before the downtime
    return dues


def test_overdue_timers_fire_once_each_in_due_order_after_restart(
    session_factory: sessionmaker[Session], restarted: tuple[sessionmaker[Session], SimulatedClock]
) -> None:
    dues = enroll_waits(session_factory)
    assert sorted(dues.values()) == [
        T0 + timedelta(days=2, hours=12),  # enrolled day 1 + PT36H
        T0 + timedelta(days=3, hours=2),  # enrolled +2h + P3D
        T0 + timedelta(days=7),  # enrolled day 2 + P5D
        T0 + timedelta(days=10),  # enrolled at T0 + P10D
        datetime(2026, 2, 6, 10, 0, tzinfo=UTC),  # enrolled Jan 6 10:00 + P1M
    ]
    factory, clock = restarted
    audits_before = audit_count(factory)

    fired = Service(factory, clock).fire_due_timers()

    in_due_order = sorted(dues, key=dues.__getitem__)
    assert [f["pathwayId"] for f in fired] == in_due_order
    assert [f["fired"] for f in fired] == [[{"elementId": "Timer_wait", "due": at(dues[p])}] for p in in_due_order]
    events = timer_events(factory)
    assert [e.instance_id for e in events] == in_due_order
    assert [e.details["fired"][0]["due"] for e in events] == sorted(at(d) for d in dues.values())
    assert all(e.actor == TIMER_ACTOR and e.at == DOWNTIME_END for e in events)
    assert audit_count(factory) == audits_before + len(dues)

    svc = Service(factory, clock)
    for pid, due in dues.items():
        (task,) = svc.tasks(pathway_id=pid)["items"]
        assert task["elementId"] == "Task_review"
        assert task["createdAt"] == at(due)  # anchored at the original due instant ...
        assert task["due"] == at(due + timedelta(weeks=1))  # ... so is dueDate P1W ...
        assert task["followUp"] == at(due + timedelta(days=2))  # ... and FEEL now() in followUpDate
        assert task["overdue"] is True  # and it shows as overdue, honestly
        assert svc.pathway(pid)["nextDueAt"] is None

    # A second run (or another worker) finds nothing left to fire.
    assert svc.fire_due_timers() == []
    assert Service(session_factory, SimulatedClock(DOWNTIME_END)).fire_due_timers() == []
    assert audit_count(factory) == audits_before + len(dues)
    assert all(len(svc.tasks(pathway_id=pid)["items"]) == 1 for pid in dues)


def test_restart_before_anything_is_due_fires_nothing(
    session_factory: sessionmaker[Session], db_url: str
) -> None:
    dues = enroll_waits(session_factory)
    engine = make_engine(db_url)
    try:
        factory = make_session_factory(engine)
        earliest = min(dues.values())
        svc = Service(factory, SimulatedClock(earliest - timedelta(seconds=1)))
        assert svc.fire_due_timers() == []
        assert timer_events(factory) == []
        # Exactly at the earliest due instant, only that one pathway fires.
        svc = Service(factory, SimulatedClock(earliest))
        (only,) = svc.fire_due_timers()
        assert only["pathwayId"] == min(dues, key=dues.__getitem__)
    finally:
        engine.dispose()


def test_overdue_boundary_and_intermediate_timers_of_the_acceptance_bundle(
    session_factory: sessionmaker[Session], restarted: tuple[sessionmaker[Session], SimulatedClock]
) -> None:
    # The acceptance bundle: one pathway waits on its P6W chase boundary timer, another (whose
    # reassessment was done on Jan 31) on its P3M timer; both fall due during the downtime.
    bundle = FIXTURES / "bundle"
    clock = SimulatedClock(T0)
    svc = Service(session_factory, clock)
    svc.deploy({p.name: p.read_bytes() for p in bundle.iterdir()}, actor="lead:dana")
    variables = {"neuroDeficit": False, "painScore": 5, "fractureDate": date(2026, 1, 2)}
    chase = svc.enroll("engine_acceptance", actor="coordinator:ann", variables=variables)
    three_month = svc.enroll("engine_acceptance", actor="coordinator:ann", variables=variables)
    clock.set(datetime(2026, 1, 31, 9, 0, tzinfo=UTC))
    (reassess,) = svc.tasks(pathway_id=three_month)["items"]
    svc.complete(reassess["id"], {"painScore": 2}, actor="clinician:bob")

    factory, late = restarted
    fired = Service(factory, late).fire_due_timers()
    assert fired == [
        {"pathwayId": chase, "fired": [{"elementId": "Boundary_overdue", "due": at(T0 + timedelta(weeks=6))}]},
        {"pathwayId": three_month, "fired": [{"elementId": "Timer_3m",
                                              "due": at(datetime(2026, 4, 30, 9, 0, tzinfo=UTC))}]},
    ]
    after = Service(factory, late)
    assert {t["elementId"]: t["createdAt"] for t in after.tasks(pathway_id=chase)["items"]} == {
        "Task_reassess": at(T0), "Task_chase": at(T0 + timedelta(weeks=6))}
    assert [(t["elementId"], t["createdAt"]) for t in after.tasks(pathway_id=three_month)["items"]] == [
        ("Task_three_month", at(datetime(2026, 4, 30, 9, 0, tzinfo=UTC)))]
    assert after.fire_due_timers() == []


def test_several_overdue_timers_of_one_pathway_fire_in_due_order(
    session_factory: sessionmaker[Session], restarted: tuple[sessionmaker[Session], SimulatedClock]
) -> None:
    clock = SimulatedClock(datetime(2026, 1, 31, 9, 0, tzinfo=UTC))
    svc = Service(session_factory, clock)
    svc.deploy({"feel_timers.bpmn": (FIXTURES / "timers" / "feel_timers.bpmn").read_bytes()}, actor="lead:dana")
    pid = svc.enroll("feel_timers", actor="coordinator:ann", variables={"appointmentDate": date(2026, 3, 10)})

    factory, late = restarted
    results = Service(factory, late).fire_due_timers()
    dues = [("Timer_month", datetime(2026, 2, 28, 9, 0, tzinfo=UTC)),
            ("Timer_day_before", datetime(2026, 3, 9, tzinfo=UTC)),
            ("Timer_six_weeks", datetime(2026, 3, 14, 9, 0, tzinfo=UTC))]
    # One step (transaction, audit event) per due instant, earliest first.
    assert results == [{"pathwayId": pid, "fired": [{"elementId": e, "due": at(d)}]} for e, d in dues]
    tasks = {t["elementId"]: t["createdAt"] for t in Service(factory, late).tasks(pathway_id=pid)["items"]}
    assert tasks == {"Task_month": at(dues[0][1]), "Task_prepare": at(dues[1][1]), "Task_six_weeks": at(dues[2][1])}


def test_two_workers_after_restart_fire_each_timer_once(
    session_factory: sessionmaker[Session], db_url: str
) -> None:
    dues = enroll_waits(session_factory)
    engines = [make_engine(db_url) for _ in range(2)]
    try:
        workers = [Service(make_session_factory(e), SimulatedClock(DOWNTIME_END)) for e in engines]
        results: list[list[dict]] = [[], []]
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def run(n: int) -> None:
            barrier.wait()
            try:
                results[n] = workers[n].fire_due_timers()
            except BaseException as exc:  # surfaced below with its traceback
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        if errors:
            raise errors[0]
        fired = sorted(f["pathwayId"] for result in results for f in result)
        assert fired == sorted(dues)  # every pathway once, whichever worker got it
        assert sorted(e.instance_id for e in timer_events(session_factory)) == sorted(dues)
        assert all(len(workers[0].tasks(pathway_id=pid)["items"]) == 1 for pid in dues)
    finally:
        for e in engines:
            e.dispose()
