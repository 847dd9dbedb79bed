"""A start event's Camunda form types the variables a pathway is enrolled with."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.service import InvalidInput, Service
from engine.store import AuditEvent, Instance

BUNDLE = Path(__file__).parent / "fixtures" / "start_form"


@pytest.fixture
def svc(session_factory: sessionmaker[Session]) -> Service:
    service = Service(session_factory, SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    service.deploy({p.name: p.read_bytes() for p in BUNDLE.glob("*.bpmn")}, actor="lead")
    return service


def test_iso_date_text_becomes_a_date_so_feel_date_arithmetic_works(svc: Service) -> None:
    pid = svc.enroll("start_form", actor="coordinator", variables={"fractureDate": "2026-02-20", "painScore": 6,
                                                                 "referrer": "GP"})
    assert svc.pathway(pid)["variables"] == {"fractureDate": date(2026, 2, 20), "painScore": 6, "referrer": "GP"}
    (task,) = svc.tasks(pathway_id=pid)["items"]
    assert task["due"] == "2026-03-20T00:00:00+00:00"  # fractureDate + P4W, a date at midnight UTC


@pytest.mark.parametrize(("variables", "field", "code"), [
    ({"painScore": 3}, "fractureDate", "required"),
    ({"fractureDate": "20/02/2026"}, "fractureDate", "type"),
    ({"fractureDate": "2026-02-20", "painScore": 11}, "painScore", "max"),
    ({"fractureDate": "2026-02-20", "painScore": "six"}, "painScore", "type"),
])
def test_invalid_start_variables_are_refused_per_field_and_nothing_is_stored(
    svc: Service, session_factory: sessionmaker[Session], variables: dict, field: str, code: str
) -> None:
    with session_factory() as session:
        audit_before = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(InvalidInput) as raised:
        svc.enroll("start_form", actor="coordinator", variables=variables)
    assert [(e.field, e.code) for e in raised.value.errors] == [(field, code)]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == audit_before


DEFAULTS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="defaults" isExecutable="true">
    <bpmn:startEvent id="S" name="Start">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="lastDose" label="Last dose" type="date">
          <camunda:validation><camunda:constraint name="required" /></camunda:validation>
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Plan" name="Plan follow-on">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="followOnDue" label="Follow-on due" type="date"
          defaultValue="${lastDose + duration(&#34;P6M&#34;)}">
          <camunda:properties><camunda:property id="record" value="test" /></camunda:properties>
          <camunda:validation><camunda:constraint name="required" /></camunda:validation>
        </camunda:formField>
        <camunda:formField id="doses" label="Doses" type="long" defaultValue="2">
          <camunda:properties><camunda:property id="record" value="test" /></camunda:properties>
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="E" name="End"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Plan" />
    <bpmn:sequenceFlow id="F2" sourceRef="Plan" targetRef="E" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_form_defaults_are_evaluated_shown_and_applied(session_factory: sessionmaker[Session]) -> None:
    service = Service(session_factory, SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    service.deploy({"defaults.bpmn": DEFAULTS}, actor="lead")
    pid = service.enroll("defaults", actor="c", variables={"lastDose": date(2026, 1, 31)})
    (task,) = service.tasks(pathway_id=pid)["items"]
    fields = {f["id"]: f for f in service.task(task["id"])["form"]["fields"]}
    assert fields["followOnDue"]["default"] == "2026-07-31" and fields["doses"]["default"] == "2"
    service.complete(task["id"], {}, actor="c")  # the defaults satisfy the required field
    variables = service.pathway(pid)["variables"]
    assert variables["followOnDue"] == date(2026, 7, 31) and variables["doses"] == 2
