"""The process spec is stored once per definition, never inside each pathway instance.

SpiffWorkflow's serializer embeds the whole spec in every workflow it writes; ours strips it and
re-attaches the definition's parsed spec on load. 20 pathways of the acceptance bundle, some
moved on (reassessment done, chase timer fired, urgent path), prove it on SQLite and PostgreSQL.

Measured with the acceptance bundle (spec_json ~18 kB): an urgent-path instance is ~0.22x the
spec, a routine instance inside the sub-process 0.60-0.70x (SpiffWorkflow keeps ~350 bytes of
bookkeeping per task, predicted tasks included). An embedded spec would make it > 1.0x.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.service import Service
from engine.store import Definition, Instance

BUNDLE = Path(__file__).parent / "fixtures" / "bundle"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
COUNT = 20


def keys_anywhere(value: Any, found: set[str] | None = None) -> set[str]:
    found = set() if found is None else found
    if isinstance(value, dict):
        found.update(value)
        for item in value.values():
            keys_anywhere(item, found)
    elif isinstance(value, list):
        for item in value:
            keys_anywhere(item, found)
    return found


def nested_spec_values(state: dict[str, Any]) -> list[Any]:
    return [sub.get("spec") for sub in state.get("subprocesses", {}).values()]


@pytest.fixture
def pathways(session_factory: sessionmaker[Session]) -> list[str]:
    clock = SimulatedClock(T0)
    svc = Service(session_factory, clock)
    svc.deploy({p.name: p.read_bytes() for p in BUNDLE.iterdir()}, actor="lead:dana")
    pids = []
    for n in range(COUNT):
        variables = {"neuroDeficit": n % 5 == 0, "painScore": n % 10, "fractureDate": date(2026, 1, 2)}
        pids.append(svc.enroll("engine_acceptance", actor="coordinator:ann", variables=variables))
    for pid in pids[:10]:
        for task in svc.tasks(pathway_id=pid)["items"]:
            if task["elementId"] == "Task_reassess":
                svc.complete(task["id"], {"painScore": 3, "mobility": "independent"}, actor="clinician:bob")
    clock.advance(timedelta(weeks=7))
    assert svc.fire_due_timers(), "some chase timers should have fired"
    return pids


def test_definitions_table_holds_one_row(session_factory: sessionmaker[Session], pathways: list[str]) -> None:
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Definition)) == 1
        assert session.scalar(select(func.count()).select_from(Instance)) == COUNT
        definition = session.scalars(select(Definition)).one()
        assert set(definition.spec_json) == {"spec", "subprocess_specs"}
        assert "Sub_conservative" in definition.spec_json["subprocess_specs"]
        assert {i.definition_id for i in session.scalars(select(Instance))} == {definition.id}


def test_instance_state_carries_no_spec(session_factory: sessionmaker[Session], pathways: list[str]) -> None:
    with session_factory() as session:
        definition = session.scalars(select(Definition)).one()
        spec_text = json.dumps(definition.spec_json)
        assert "Pain (0-10)" in spec_text and 'duration(\\"P4W\\")' in spec_text  # spec-only content
        for instance in session.scalars(select(Instance)):
            state = instance.state
            assert "spec" not in state and "subprocess_specs" not in state
            assert not {"subprocess_specs", "task_specs"} & keys_anywhere(state)
            # A sub-workflow names its spec; it never holds it.
            assert all(isinstance(name, str) for name in nested_spec_values(state))
            text = json.dumps(state)
            assert "Pain (0-10)" not in text and "P4W" not in text


def test_instance_state_is_much_smaller_than_the_spec(
    session_factory: sessionmaker[Session], pathways: list[str]
) -> None:
    with session_factory() as session:
        spec_size = len(json.dumps(session.scalars(select(Definition)).one().spec_json))
        sizes = [len(json.dumps(i.state)) for i in session.scalars(select(Instance))]
    ratios = sorted(size / spec_size for size in sizes)
    assert len(ratios) == COUNT
    assert ratios[-1] < 0.75, f"largest instance is {ratios[-1]:.2f}x the spec"
    assert sum(ratios) / COUNT < 0.6, f"mean instance is {sum(ratios) / COUNT:.2f}x the spec"
    # What the database holds vs. SpiffWorkflow's default (the spec inside every instance).
    stored, embedded = spec_size + sum(sizes), COUNT * spec_size + sum(sizes)
    assert stored < 0.4 * embedded


def test_instances_load_from_the_shared_spec(session_factory: sessionmaker[Session], pathways: list[str]) -> None:
    fresh = Service(session_factory, SimulatedClock(T0 + timedelta(weeks=7)))  # nothing cached
    views = [fresh.pathway(pid) for pid in pathways]
    assert all(v["definition"] == {"key": "engine_acceptance", "version": 1} for v in views)
    urgent = [v for v in views if v["variables"]["urgency"] == "urgent"]
    routine = [v for v in views if v["variables"]["urgency"] == "routine"]
    assert len(urgent) == 8 and len(routine) == 12  # neuro every 5th (4) + pain 8/9 (4)
    assert all("Task_urgent_review" in v["activeElements"] for v in urgent)
    assert all("Sub_conservative" in v["activeElements"] for v in routine)
