"""Behaviours added after an engine review: each test names the defect it guards against."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.models.bundle import lint_paths
from engine.service import Conflict, InvalidInput, Service
from engine.store import AuditEvent

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{pid}" isExecutable="true">
"""
TAIL = """  </bpmn:process>
</bpmn:definitions>
"""

ESCALATION = HEAD.format(pid="escalation") + """
    <bpmn:startEvent id="S" name="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="A" name="Review" camunda:candidateGroups="clinician">
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="Late" name="1 day" attachedToRef="A"><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P1D</bpmn:timeDuration>
      </bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:userTask id="E" name="Escalate" camunda:candidateGroups="coordinator">
      <bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End1" name="Reviewed"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="End2" name="Escalated"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="A" />
    <bpmn:sequenceFlow id="F2" sourceRef="A" targetRef="End1" />
    <bpmn:sequenceFlow id="F3" sourceRef="Late" targetRef="E" />
    <bpmn:sequenceFlow id="F4" sourceRef="E" targetRef="End2" />
""" + TAIL

CONDITION = HEAD.format(pid="condition").replace('isExecutable="true">', 'isExecutable="true">'
    '<bpmn:extensionElements><camunda:properties><camunda:property name="inputs" value="flag" />'
    '</camunda:properties></bpmn:extensionElements>') + """
    <bpmn:startEvent id="S" name="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="G" name="Flag?" default="F3"><bpmn:incoming>F1</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing><bpmn:outgoing>F3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:userTask id="Yes" name="Yes"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="No" name="No"><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F5</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End" name="Done"><bpmn:incoming>F4</bpmn:incoming><bpmn:incoming>F5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="G" />
    <bpmn:sequenceFlow id="F2" sourceRef="G" targetRef="Yes">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${flag}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F3" sourceRef="G" targetRef="No" />
    <bpmn:sequenceFlow id="F4" sourceRef="Yes" targetRef="End" />
    <bpmn:sequenceFlow id="F5" sourceRef="No" targetRef="End" />
""" + TAIL

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


@pytest.fixture
def svc(session_factory: sessionmaker[Session]) -> tuple[Service, SimulatedClock]:
    clock = SimulatedClock(T0)
    service = Service(session_factory, clock)
    service.deploy({"escalation.bpmn": ESCALATION}, actor="lead")
    service.deploy({"condition.bpmn": CONDITION}, actor="lead")
    return service, clock


def ready(service: Service, pid: str) -> list[str]:
    return sorted(t["elementId"] for t in service.tasks(pathway_id=pid)["items"])


def audits(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


def test_an_overdue_escalation_fires_before_a_late_command(svc) -> None:
    """A command after downtime must not skip the timer that was already due."""
    service, clock = svc
    pid = service.enroll("escalation", actor="coordinator")
    (task,) = service.tasks(pathway_id=pid)["items"]
    clock.advance(timedelta(days=3))  # the worker has not run
    with pytest.raises(Conflict):
        service.complete(task["id"], {}, actor="clinician")
    assert ready(service, pid) == ["E"]  # the escalation happened, at its due time
    (escalation,) = service.tasks(pathway_id=pid)["items"]
    assert escalation["createdAt"] == (T0 + timedelta(days=1)).isoformat()


def test_a_condition_must_be_boolean_not_truthy(svc) -> None:
    service, _clock = svc
    assert ready(service, service.enroll("condition", actor="c", variables={"flag": True})) == ["Yes"]
    assert ready(service, service.enroll("condition", actor="c", variables={"flag": None})) == ["No"]
    with pytest.raises(InvalidInput, match="not true or false"):
        service.enroll("condition", actor="c", variables={"flag": "false"})


def test_user_data_cannot_impersonate_serialized_objects(svc, session_factory) -> None:
    service, _clock = svc
    before = audits(session_factory)
    with pytest.raises(InvalidInput) as raised:
        service.enroll("condition", actor="c", variables={"flag": True, "note": {"typename": "date", "value": "x"}})
    assert [(e.field, e.code) for e in raised.value.errors] == [("note.typename", "reserved")]
    assert audits(session_factory) == before


def test_suspend_pauses_commands_and_timers_resume_catches_up_cancel_closes(svc) -> None:
    service, clock = svc
    pid = service.enroll("escalation", actor="coordinator")
    (task,) = service.tasks(pathway_id=pid)["items"]
    assert service.change_status(pid, "suspend", actor="lead", reason="patient in hospital") == "suspended"
    with pytest.raises(Conflict):
        service.complete(task["id"], {}, actor="clinician")
    clock.advance(timedelta(days=2))
    assert service.fire_due_timers() == []  # a suspended pathway's timers wait
    assert service.change_status(pid, "resume", actor="lead") == "running"
    assert [f["elementId"] for r in service.fire_due_timers() for f in r["fired"]] == ["Late"]
    assert service.change_status(pid, "cancel", actor="lead", reason="duplicate") == "cancelled"
    assert service.tasks(pathway_id=pid)["items"] == []
    assert service.pathway(pid)["status"] == "cancelled" and service.pathway(pid)["nextDueAt"] is None
    actions = [e["action"] for e in service.timeline(pid)]
    assert actions[-4:] == ["pathway.suspend", "pathway.resume", "timer.fire", "pathway.cancel"]
    with pytest.raises(Conflict):
        service.change_status(pid, "resume", actor="lead")


def test_a_transient_database_error_defers_a_timer_instead_of_failing_the_pathway(svc, monkeypatch) -> None:
    service, clock = svc
    pid = service.enroll("escalation", actor="coordinator")
    clock.advance(timedelta(days=2))
    real = service._fire_batch
    calls = []

    def flaky(now, size):
        calls.append(size)
        if len(calls) == 1:
            raise OperationalError("UPDATE instances", {}, Exception("database is locked"))
        return real(now, size)

    monkeypatch.setattr(service, "_fire_batch", flaky)
    assert service.fire_due_timers() == []  # deferred, not parked
    assert service.pathway(pid)["status"] == "running"
    assert [f["elementId"] for r in service.fire_due_timers() for f in r["fired"]] == ["Late"]


@pytest.mark.parametrize(("snippet", "element", "words"), [
    ('<bpmn:intermediateCatchEvent id="X" name="x"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>'
     '<bpmn:timerEventDefinition><bpmn:timeCycle>R3/P1D</bpmn:timeCycle></bpmn:timerEventDefinition>'
     '</bpmn:intermediateCatchEvent>', "X", "cycle"),
    ('<bpmn:intermediateCatchEvent id="X" name="x"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>'
     '<bpmn:timerEventDefinition><bpmn:timeDuration>2027-01-01T09:00:00Z</bpmn:timeDuration></bpmn:timerEventDefinition>'
     '</bpmn:intermediateCatchEvent>', "X", "not a duration"),
    ('<bpmn:callActivity id="X" name="x" calledElement="lint_case"><bpmn:extensionElements>'
     '<camunda:in source="a" target="b" /></bpmn:extensionElements>'
     '<bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:callActivity>', "X", "camunda:in"),
    ('<bpmn:userTask id="X" name="x"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>'
     '<bpmn:multiInstanceLoopCharacteristics camunda:collection="${items}" /></bpmn:userTask>', "X", "multi-instance"),
    ('<bpmn:userTask id="X" name="x" camunda:formKey="embedded:app:forms/x.html"><bpmn:incoming>F1</bpmn:incoming>'
     '<bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>', "X", "external forms"),
])
def test_lint_refuses_what_would_misbehave_at_run_time(tmp_path: Path, snippet: str, element: str, words: str) -> None:
    model = HEAD.format(pid="lint_case") + (
        '<bpmn:startEvent id="S" name="s"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>' + snippet +
        '<bpmn:endEvent id="End" name="e"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="X" /><bpmn:sequenceFlow id="F2" sourceRef="X" targetRef="End" />'
    ) + TAIL
    (tmp_path / "case.bpmn").write_text(model)
    found = [p for p in lint_paths([tmp_path]) if p.element == element]
    assert found and words in found[0].message, lint_paths([tmp_path])


def test_migrating_a_renamed_task_keeps_its_due_date(svc) -> None:
    service, clock = svc
    v1 = ESCALATION.replace('name="Review"', 'name="Review" camunda:dueDate="P7D"')
    service.deploy({"escalation.bpmn": v1}, actor="lead")  # version 2: due in a week
    pid = service.enroll("escalation", actor="coordinator")
    (task,) = service.tasks(pathway_id=pid)["items"]
    assert task["due"] == (T0 + timedelta(days=7)).isoformat()
    clock.advance(timedelta(hours=20))
    service.deploy({"escalation.bpmn": v1.replace('name="Review"', 'name="Clinical review"')}, actor="lead")
    service.migrate(pid, 3, actor="lead", dry_run=False)
    (moved,) = service.tasks(pathway_id=pid)["items"]
    assert moved["due"] == task["due"] and moved["createdAt"] == task["createdAt"]
    assert service.pathway(pid)["definition"]["version"] == 3


DATE_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="D" name="D" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="NextDose" name="Next dose">
    <decisionTable id="T" hitPolicy="UNIQUE">
      <input id="I" label="Last dose"><inputExpression id="IE" typeRef="date"><text>lastDose</text></inputExpression></input>
      <output id="O" name="nextDose" typeRef="date" />
      <rule id="R1"><inputEntry id="E1"><text>-</text></inputEntry>
        <outputEntry id="X1"><text>lastDose + duration("P6M")</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""
DATE_BPMN = HEAD.format(pid="dates") + """
    <bpmn:startEvent id="S" name="Start">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="lastDose" label="Last dose" type="date">
          <camunda:validation><camunda:constraint name="required" /></camunda:validation>
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="B" name="Plan" camunda:decisionRef="NextDose" camunda:resultVariable="nextDose"
      camunda:mapDecisionResult="singleEntry"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:userTask id="U" name="Give" camunda:dueDate="${nextDose + duration(&#34;P1M&#34;)}">
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End" name="Done"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="B" />
    <bpmn:sequenceFlow id="F2" sourceRef="B" targetRef="U" />
    <bpmn:sequenceFlow id="F3" sourceRef="U" targetRef="End" />
""" + TAIL


def test_a_date_decided_by_dmn_stays_a_date_for_later_feel(session_factory) -> None:
    from datetime import date

    service = Service(session_factory, SimulatedClock(T0))
    service.deploy({"dates.bpmn": DATE_BPMN, "dates.dmn": DATE_DMN}, actor="lead")
    pid = service.enroll("dates", actor="c", variables={"lastDose": date(2026, 1, 31)})
    assert service.pathway(pid)["variables"]["nextDose"] == date(2026, 7, 31)
    (task,) = service.tasks(pathway_id=pid)["items"]
    assert task["due"] == "2026-08-31T00:00:00+00:00"  # null before: the date had become text
