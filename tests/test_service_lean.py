"""Commands do the work asked for: a warm service never reads a definition's large columns
(its specs and sources, about a megabyte for the bundled pathway) to run a command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.service import Service

BUNDLE = Path(__file__).parent / "fixtures" / "bundle"


@contextmanager
def statements(session_factory: sessionmaker[Session]) -> Iterator[list[str]]:
    engine = session_factory.kw["bind"]
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_commands_never_load_the_definitions_large_columns(session_factory: sessionmaker[Session]) -> None:
    svc = Service(session_factory, SimulatedClock(datetime(2026, 1, 5, 9, tzinfo=UTC)))
    svc.deploy({p.name: p.read_bytes() for p in BUNDLE.iterdir()}, actor="lead")
    start = {"painScore": 3, "neuroDeficit": False, "fractureDate": date(2026, 1, 1)}
    with statements(session_factory) as seen:
        pathway = svc.enroll("engine_acceptance", actor="coordinator", variables=start)
        task = svc.tasks(pathway_id=pathway)["items"][0]
        svc.task(task["id"])
        svc.pathway(pathway)
        svc.complete(task["id"], {"painScore": 2}, actor="coordinator")
        svc.clock.advance("P13W")
        svc.fire_due_timers()
    assert seen, "no statement recorded"
    heavy = [s for s in seen if "spec_json" in s or "definitions.sources" in s]
    assert heavy == [], heavy[:3]
