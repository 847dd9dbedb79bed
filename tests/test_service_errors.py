"""Data the model cannot run on is refused as invalid input, and nothing is written."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.problems import ModelError
from engine.service import Conflict, InvalidInput, Service
from engine.store import AuditEvent, Instance

BUNDLE = Path(__file__).parent / "fixtures" / "bundle"


@pytest.fixture
def svc(session_factory: sessionmaker[Session]) -> Service:
    service = Service(session_factory, SimulatedClock(datetime(2026, 1, 5, 9, tzinfo=UTC)))
    service.deploy({p.name: p.read_bytes() for p in BUNDLE.iterdir()}, actor="lead")
    return service


def counts(session_factory: sessionmaker[Session]) -> tuple[int, int]:
    with session_factory() as session:
        return (session.scalar(select(func.count()).select_from(Instance)),
                session.scalar(select(func.count()).select_from(AuditEvent)))


def test_a_decision_input_of_the_wrong_type_is_invalid_input_naming_the_element(
    svc: Service, session_factory: sessionmaker[Session]
) -> None:
    # The start form types painScore, so a wrong type never reaches the decision; a version whose
    # start form takes it as text shows what happens when a decision gets an input it cannot use.
    files = {p.name: p.read_bytes() for p in BUNDLE.iterdir()}
    files["engine_acceptance.bpmn"] = files["engine_acceptance.bpmn"].replace(
        b'label="Pain at enrolment (0-10)" type="long"', b'label="Pain at enrolment (0-10)" type="string"')
    svc.deploy(files, actor="lead")
    before = counts(session_factory)
    with pytest.raises(InvalidInput) as raised:
        svc.enroll("engine_acceptance", actor="coordinator",
                   variables={"painScore": "abc", "neuroDeficit": False, "fractureDate": date(2026, 1, 1)})
    message = str(raised.value)
    assert "Activity_triage" in message and "painScore" in message and "number" in message
    assert counts(session_factory) == before


def test_a_message_whose_variables_break_the_model_changes_nothing(
    svc: Service, session_factory: sessionmaker[Session]
) -> None:
    pid = svc.enroll("engine_acceptance", actor="coordinator",
                     variables={"painScore": 3, "neuroDeficit": False, "fractureDate": date(2026, 1, 1)})
    version, before = svc.pathway(pid)["version"], counts(session_factory)
    svc.correlate_message(pid, "RedFlagReported", actor="gp", variables={"note": "cord compression"})
    assert svc.pathway(pid)["version"] == version + 1  # a good message goes through
    assert counts(session_factory)[1] == before[1] + 1


def test_a_file_that_is_not_utf8_is_a_model_problem_naming_the_file(
    svc: Service, session_factory: sessionmaker[Session]
) -> None:
    before = counts(session_factory)
    with pytest.raises(ModelError) as raised:
        svc.deploy({"latin1.bpmn": "<?xml version='1.0'?><x>caf\xe9</x>".encode("latin-1")}, actor="lead")
    (problem,) = raised.value.problems
    assert problem.file == "latin1.bpmn" and "UTF-8" in problem.message
    assert counts(session_factory) == before


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"inner": value}
    return value


@pytest.mark.parametrize("depth", [33, 400, 5000])
def test_deeply_nested_start_data_is_refused_by_name_and_nothing_is_saved(
    svc: Service, session_factory: sessionmaker[Session], depth: int
) -> None:
    before = counts(session_factory)
    with pytest.raises(InvalidInput) as raised:
        svc.enroll("engine_acceptance", actor="coordinator",
                   variables={"painScore": 3, "neuroDeficit": False, "fractureDate": date(2026, 1, 1),
                              "context": nested(depth)})
    assert [(e.code, e.field.split(".")[0]) for e in raised.value.errors] == [("too-deep", "context")]
    assert "nested more than 32 levels" in raised.value.errors[0].message
    assert counts(session_factory) == before


def test_too_many_values_or_too_long_a_text_is_refused(svc: Service, session_factory: sessionmaker[Session]) -> None:
    pid = svc.enroll("engine_acceptance", actor="coordinator",
                     variables={"painScore": 3, "neuroDeficit": False, "fractureDate": date(2026, 1, 1)})
    before = counts(session_factory)
    for variables, code in (({"note": list(range(20_000))}, "too-large"), ({"note": "x" * 100_001}, "too-long")):
        with pytest.raises(InvalidInput) as raised:
            svc.correlate_message(pid, "RedFlagReported", actor="gp", variables=variables)
        assert code in {e.code for e in raised.value.errors}
    assert counts(session_factory) == before


def test_a_pathway_whose_state_cannot_load_is_parked_and_never_stalls_the_others(
    svc: Service, session_factory: sessionmaker[Session]
) -> None:
    start = {"painScore": 3, "neuroDeficit": False, "fractureDate": date(2026, 1, 1)}
    broken, healthy = (svc.enroll("engine_acceptance", actor="coordinator", variables=start) for _ in range(2))
    with session_factory.begin() as session:
        row = session.get(Instance, broken)
        row.state = nested(600)  # as deep as a variable saved before the limit could leave it
        row.next_due_at = datetime(2026, 1, 5, 9, tzinfo=UTC)  # due first
    due = svc.pathway(healthy)["nextDueAt"]
    svc.clock.set(datetime.fromisoformat(due))
    fired = svc.fire_due_timers()
    by_pathway = {f["pathwayId"]: f for f in fired}
    assert by_pathway[broken]["fired"] == [] and by_pathway[broken]["error"]
    assert by_pathway[healthy]["fired"], fired  # the healthy pathway's timer still fired
    with session_factory() as session:
        assert session.get(Instance, broken).status == "failed"
        incident = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == broken,
                                                            AuditEvent.action == "pathway.incident")).one()
        assert incident.reason
    assert all(f["pathwayId"] != broken for f in svc.fire_due_timers())  # parked: not retried
    (incident,) = svc.incidents()  # visible, with its error, without reading logs
    assert incident["pathwayId"] == broken and incident["error"]
    with pytest.raises(Conflict, match="failed"):  # a command on it is refused, not a 500
        svc.correlate_message(broken, "RedFlagReported", actor="gp", variables={"note": "x"})
