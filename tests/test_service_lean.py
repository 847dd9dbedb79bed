"""Commands do the work asked for: a warm service never reads a definition's large columns
(its specs and sources, about a megabyte for the bundled pathway) to run a command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.service import InvalidInput, Service
from engine.store import Task

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


FORMS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://example.org/forms">
  <bpmn:process id="dosing" name="Dosing" isExecutable="true">
    <bpmn:startEvent id="Enrolled">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="lastDose" label="Last dose" type="date">
          <camunda:validation><camunda:constraint name="required"/></camunda:validation>
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="Enrolled" targetRef="Plan"/>
    <bpmn:userTask id="Plan" name="Plan the next dose" camunda:candidateGroups="clinician">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="nextDose" label="Next dose" type="date"
            defaultValue="${lastDose + duration(&#34;P6M&#34;)}">
          <camunda:validation><camunda:constraint name="required"/></camunda:validation>
        </camunda:formField>
        <camunda:formField id="note" label="Note" type="string"/>
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Plan" targetRef="Done"/>
    <bpmn:endEvent id="Done"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_task_row_keeps_its_defaults_and_the_form_comes_from_the_definition(
        session_factory: sessionmaker[Session]) -> None:
    svc = Service(session_factory, SimulatedClock(datetime(2026, 1, 5, 9, tzinfo=UTC)))
    svc.deploy({"dosing.bpmn": FORMS}, actor="lead")
    first = svc.enroll("dosing", actor="coordinator", variables={"lastDose": date(2026, 1, 2)})
    second = svc.enroll("dosing", actor="coordinator", variables={"lastDose": date(2026, 3, 1)})

    with session_factory() as session:
        rows = {row.instance_id: row for row in session.query(Task)}
    assert all(row.form is None for row in rows.values())  # no copy of the form per task
    assert rows[first].form_defaults == {"nextDose": "2026-07-02"}
    assert rows[second].form_defaults == {"nextDose": "2026-09-01"}

    task = svc.task(rows[first].id)
    assert [f["id"] for f in task["form"]["fields"]] == ["nextDose", "note"]
    assert task["form"]["fields"][0]["default"] == "2026-07-02" and "default" not in task["form"]["fields"][1]
    # the form read back from the definition validates the submission, with this task's default
    with pytest.raises(InvalidInput) as refused:
        svc.complete(rows[first].id, {"nextDose": "soon"}, actor="clinician")
    assert [e.field for e in refused.value.errors] == ["nextDose"]
    svc.complete(rows[first].id, {"note": "as planned"}, actor="clinician")
    assert svc.pathway(first)["variables"]["nextDose"] == date(2026, 7, 2)
