"""A command is one transaction: the timers that fell due before it fire first, in it.

Before issue 10 a completion was three transactions (a read, a catch-up per due instant, the
command) and 28 statements on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.service import Conflict, Service
from engine.store import AuditEvent

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def review_bpmn(*, interrupting: bool) -> bytes:
    """Review (boundary timer after one hour: interrupting → escalate instead; not → a chase
    beside it), then Sign off."""
    cancel = "true" if interrupting else "false"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://example.org/review">
  <bpmn:process id="review" name="Review" isExecutable="true">
    <bpmn:startEvent id="Enrolled"/>
    <bpmn:sequenceFlow id="f1" sourceRef="Enrolled" targetRef="Review"/>
    <bpmn:userTask id="Review" name="Review" camunda:candidateGroups="coordinator"/>
    <bpmn:sequenceFlow id="f2" sourceRef="Review" targetRef="SignOff"/>
    <bpmn:userTask id="SignOff" name="Sign off" camunda:candidateGroups="coordinator"/>
    <bpmn:sequenceFlow id="f3" sourceRef="SignOff" targetRef="End"/>
    <bpmn:endEvent id="End"/>
    <bpmn:boundaryEvent id="Late" name="1 hour" cancelActivity="{cancel}" attachedToRef="Review">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="Late" targetRef="Chase"/>
    <bpmn:userTask id="Chase" name="Chase the review" camunda:candidateGroups="coordinator"/>
    <bpmn:sequenceFlow id="f5" sourceRef="Chase" targetRef="ChaseEnd"/>
    <bpmn:endEvent id="ChaseEnd"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def started(session_factory: sessionmaker[Session], *, interrupting: bool) -> tuple[Service, SimulatedClock, str]:
    clock = SimulatedClock(START)
    svc = Service(session_factory, clock)
    svc.deploy({"review.bpmn": review_bpmn(interrupting=interrupting)}, actor="lead")
    pathway = svc.enroll("review", actor="coordinator")
    return svc, clock, pathway


def open_task(svc: Service, pathway: str, element: str) -> dict:
    (task,) = [t for t in svc.tasks(pathway_id=pathway)["items"] if t["elementId"] == element]
    return task


def actions(session_factory: sessionmaker[Session], pathway: str) -> list[str]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == pathway)
                                    .order_by(AuditEvent.id)))


@pytest.fixture
def transactions(engine: Engine) -> list[str]:
    """Every transaction begun on the engine, and every statement, as they happen."""
    seen: list[str] = []
    event.listen(engine, "begin", lambda conn: seen.append("TXN"))
    event.listen(engine, "before_cursor_execute", lambda conn, cur, sql, *rest: seen.append(sql.split()[0]))
    return seen


def test_a_completion_is_one_transaction_with_the_due_timer_fired_first(
        session_factory: sessionmaker[Session], transactions: list[str]) -> None:
    svc, clock, pathway = started(session_factory, interrupting=False)
    review = open_task(svc, pathway, "Review")
    clock.advance(timedelta(hours=2))  # the chase fell due; no timer worker ran

    transactions.clear()
    svc.complete(review["id"], {}, actor="coordinator")

    assert transactions.count("TXN") == 1
    assert actions(session_factory, pathway)[-2:] == ["timer.fire", "task.complete"]
    assert {t["elementId"] for t in svc.tasks(pathway_id=pathway)["items"]} == {"Chase", "SignOff"}
    assert svc.fire_due_timers() == []  # fired exactly once


def test_a_plain_completion_takes_one_transaction_and_few_statements(
        session_factory: sessionmaker[Session], transactions: list[str]) -> None:
    svc, _, pathway = started(session_factory, interrupting=False)
    review = open_task(svc, pathway, "Review")

    transactions.clear()
    svc.complete(review["id"], {}, actor="coordinator")

    statements = [s for s in transactions if s not in ("TXN", "BEGIN")]
    assert transactions.count("TXN") == 1
    # lock the pathway through its task, read the task and its groups, write the state, read the
    # open tasks and their groups, close one, open one with its group, move the group index,
    # the audit event (PostgreSQL adds SET/SHOW of its own; both stay well under the 28 before)
    assert len(statements) <= 16, statements


def test_when_the_due_timer_takes_the_task_away_the_firing_commits_and_the_completion_is_refused(
        session_factory: sessionmaker[Session]) -> None:
    svc, clock, pathway = started(session_factory, interrupting=True)
    review = open_task(svc, pathway, "Review")
    clock.advance(timedelta(hours=2))

    with pytest.raises(Conflict, match="cancelled"):
        svc.complete(review["id"], {}, actor="coordinator")

    assert actions(session_factory, pathway)[-1] == "timer.fire"
    assert [t["elementId"] for t in svc.tasks(pathway_id=pathway)["items"]] == ["Chase"]
    assert svc.task(review["id"])["status"] == "cancelled"
    assert svc.fire_due_timers() == []


def test_a_refused_completion_with_nothing_due_writes_nothing(session_factory: sessionmaker[Session]) -> None:
    svc, _, pathway = started(session_factory, interrupting=False)
    review = open_task(svc, pathway, "Review")
    svc.claim(review["id"], actor="someone")
    with session_factory() as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))

    with pytest.raises(Conflict, match="claimed by someone"):
        svc.complete(review["id"], {}, actor="coordinator")

    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert svc.task(review["id"])["status"] == "ready"
