"""Several timer workers on one database: disjoint batches, every due instant fired exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import SimulatedClock
from engine.store import AuditEvent
from engine.wiring import open_service

TIMERS = Path(__file__).parent / "fixtures" / "timers" / "feel_timers.bpmn"
START = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


@pytest.mark.postgres
def test_two_workers_fire_every_overdue_timer_exactly_once(postgres_schema_url: str) -> None:
    first = open_service(postgres_schema_url, clock=SimulatedClock(START))
    first.service.deploy({TIMERS.name: TIMERS.read_bytes()}, actor="lead")
    pathways = [first.service.enroll("feel_timers", actor="coordinator",
                                     variables={"appointmentDate": date(2026, 3, 1) + timedelta(days=n % 20)})
                for n in range(40)]
    second = open_service(postgres_schema_url, clock=SimulatedClock(START), migrate=False)
    later = datetime(2026, 6, 1, tzinfo=UTC)
    results: dict[str, list] = {}
    ready = threading.Barrier(2)

    def work(name: str, runtime) -> None:  # noqa: ANN001
        runtime.service.clock.set(later)
        ready.wait()
        results[name] = runtime.service.fire_due_timers(batch=5)

    threads = [threading.Thread(target=work, args=(n, r)) for n, r in (("a", first), ("b", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    steps = [(r["pathwayId"], f["elementId"], f["due"]) for found in results.values() for r in found
             for f in r["fired"]]
    assert not [r for found in results.values() for r in found if r.get("error")]
    assert len(steps) == 3 * len(pathways)
    assert Counter(steps).most_common(1)[0][1] == 1  # no instant fired twice
    with first.service.ctx.session_factory() as session:
        fires = Counter(session.scalars(select(AuditEvent.instance_id).where(AuditEvent.action == "timer.fire")))
    assert fires == dict.fromkeys(pathways, 3)  # three timers each, each audited once
    assert first.service.fire_due_timers() == [] and second.service.fire_due_timers() == []
    first.engine.dispose()
    second.engine.dispose()
