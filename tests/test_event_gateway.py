"""A timer behind an event-based gateway is scheduled like any other timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.models.bundle import lint_paths
from engine.service import Service

FIXTURE = Path(__file__).parent / "fixtures" / "event_gateway" / "dose_wait.bpmn"
START = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
LATE = datetime(2026, 8, 31, 9, 0, tzinfo=UTC)  # P7M from Jan 31, clamped like Java


@pytest.fixture
def setup(session_factory: sessionmaker[Session]) -> tuple[Service, SimulatedClock, str]:
    clock = SimulatedClock(START)
    svc = Service(session_factory, clock)
    svc.deploy({FIXTURE.name: FIXTURE.read_bytes()}, actor="lead")
    return svc, clock, svc.enroll("dose_wait", actor="coordinator")


def test_the_gateway_timer_sets_next_due_and_fires_exactly_when_due(setup) -> None:
    svc, clock, pid = setup
    view = svc.pathway(pid)
    assert view["nextDueAt"] == LATE.isoformat()
    assert view["timers"] == [{"elementId": "Gateway_wait", "due": LATE.isoformat()}]
    assert view["waitingMessages"] == ["DoseGiven"]

    clock.set(LATE - timedelta(seconds=1))
    assert svc.fire_due_timers() == []
    clock.set(LATE)
    assert [f["due"] for r in svc.fire_due_timers() for f in r["fired"]] == [LATE.isoformat()]
    assert [t["elementId"] for t in svc.tasks(pathway_id=pid)["items"]] == ["Task_late"]


def test_the_message_branch_wins_before_the_deadline_and_the_timer_is_gone(setup) -> None:
    svc, clock, pid = setup
    clock.advance("P6M")
    svc.correlate_message(pid, "DoseGiven", actor="clinician")
    view = svc.pathway(pid)
    assert view["status"] == "completed" and view["nextDueAt"] is None
    clock.set(LATE + timedelta(days=1))
    assert svc.fire_due_timers() == []


def test_two_timers_after_one_gateway_are_refused(tmp_path: Path) -> None:
    text = FIXTURE.read_text().replace(
        '<bpmn:messageEventDefinition id="MessageEventDefinition_given" messageRef="Message_given" />',
        '<bpmn:timerEventDefinition id="TimerEventDefinition_early">'
        '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P6M</bpmn:timeDuration></bpmn:timerEventDefinition>')
    (tmp_path / "two_timers.bpmn").write_text(text)
    problems = lint_paths([tmp_path])
    assert [(p.file, p.element) for p in problems] == [("two_timers.bpmn", "Gateway_wait")]
    assert "timer branches" in problems[0].message


def test_a_message_behind_the_gateway_must_carry_what_its_catch_event_declares(session_factory, tmp_path: Path) -> None:
    """The library moves a gateway target's definition into the gateway; the payload the model
    declares stays on the catch event, and a message without it is still refused, naming it."""
    from engine.service.errors import InvalidInput

    text = FIXTURE.read_text().replace('<camunda:property name="payload" value="-" />',
                                       '<camunda:property name="payload" value="doseDate" />')
    clock = SimulatedClock(START)
    svc = Service(session_factory, clock)
    svc.deploy({"dose_wait.bpmn": text.encode()}, actor="lead")
    pid = svc.enroll("dose_wait", actor="coordinator")
    with pytest.raises(InvalidInput) as refused:
        svc.correlate_message(pid, "DoseGiven", actor="clinician")
    assert [e.field for e in refused.value.errors] == ["doseDate"]
    assert svc.pathway(pid)["status"] == "running"
    svc.correlate_message(pid, "DoseGiven", actor="clinician", variables={"doseDate": "2026-02-01"})
    assert svc.pathway(pid)["status"] == "completed"
