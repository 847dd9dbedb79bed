"""Service rules around the happy path: versions, pinning, form validation and refusals.

A refused command must leave no trace: no audit row, no new instance version, the task still
ready with the same ETag. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.service import Conflict, InvalidInput, PreconditionFailed, Service
from engine.store import AuditEvent

BUNDLE = Path(__file__).parent / "fixtures" / "bundle"
KEY = "engine_acceptance"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ROUTINE = {"neuroDeficit": False, "painScore": 5, "fractureDate": date(2026, 1, 2)}


def bundle_files(**replace: str) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in sorted(BUNDLE.iterdir())}
    for old, new in replace.items():
        files["engine_acceptance.bpmn"] = files["engine_acceptance.bpmn"].replace(old.encode(), new.encode())
    return files


# v2: the chase comes after 4 weeks instead of 6, and goes to physiotherapy.
V2 = {"<bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">P6W": "<bpmn:timeDuration "
      "xsi:type=\"bpmn:tFormalExpression\">P4W",
      "name=\"Chase overdue reassessment\" camunda:candidateGroups=\"coordinator\"":
      "name=\"Chase overdue reassessment\" camunda:candidateGroups=\"physio\""}


def ready(svc: Service, pid: str) -> dict[str, dict]:
    return {t["elementId"]: t for t in svc.tasks(pathway_id=pid)["items"]}


def audit_count(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0)


@pytest.fixture
def svc(session_factory: sessionmaker[Session], clock: SimulatedClock) -> Service:
    service = Service(session_factory, clock)
    service.deploy(bundle_files(), actor="lead:dana")
    return service


@pytest.fixture
def pid(svc: Service) -> str:
    return svc.enroll(KEY, actor="coordinator:ann", variables=ROUTINE)


# -- deploy and versions ------------------------------------------------------------------------
def test_same_content_twice_is_one_version(svc: Service, session_factory: sessionmaker[Session]) -> None:
    audits = audit_count(session_factory)
    again = svc.deploy(bundle_files(), actor="lead:other")
    assert (again["version"], again["created"]) == (1, False)
    as_text = svc.deploy({k: v.decode() for k, v in bundle_files().items()}, actor="lead:other")
    assert (as_text["version"], as_text["created"], as_text["sha256"]) == (1, False, again["sha256"])
    assert [d["version"] for d in svc.definitions(KEY)] == [1]
    assert svc.definitions(KEY)[0]["deployedBy"] == "lead:dana"
    assert audit_count(session_factory) == audits  # a duplicate deploy changes nothing


def test_changed_content_is_version_2_and_running_pathways_stay_on_1(
    svc: Service, clock: SimulatedClock, session_factory: sessionmaker[Session], pid: str
) -> None:
    v2 = svc.deploy(bundle_files(**V2), actor="lead:dana")
    assert (v2["version"], v2["created"]) == (2, True)
    assert v2["sha256"] != svc.definition(KEY, 1)["sha256"]
    assert svc.definition(KEY)["version"] == 2
    newer = svc.enroll(KEY, actor="coordinator:ann", variables=ROUTINE)
    pinned = svc.enroll(KEY, actor="coordinator:ann", variables=ROUTINE, version=1)
    assert svc.pathway(newer)["definition"]["version"] == 2
    assert svc.pathway(pinned)["definition"]["version"] == 1
    assert svc.pathway(pid)["nextDueAt"] == (T0 + timedelta(weeks=6)).isoformat()
    assert svc.pathway(newer)["nextDueAt"] == (T0 + timedelta(weeks=4)).isoformat()

    clock.set(T0 + timedelta(weeks=4))
    assert [f["pathwayId"] for f in svc.fire_due_timers()] == [newer]
    assert ready(svc, newer)["Task_chase"]["candidateGroups"] == ["physio"]
    assert set(ready(svc, pid)) == {"Task_reassess"}

    clock.set(T0 + timedelta(weeks=6))
    fresh = Service(session_factory, clock)  # loads each pathway's own version from the database
    assert sorted(f["pathwayId"] for f in fresh.fire_due_timers()) == sorted([pid, pinned])
    for old in (pid, pinned):
        assert ready(fresh, old)["Task_chase"]["candidateGroups"] == ["coordinator"]
        fresh.complete(ready(fresh, old)["Task_reassess"]["id"], {"painScore": 1}, actor="clinician:bob")
        assert fresh.pathway(old)["definition"] == {"key": KEY, "version": 1}


# -- form validation --------------------------------------------------------------------------------
@pytest.mark.parametrize(("submitted", "errors"), [
    ({"painScore": "high"}, {"painScore": "type"}),
    ({"painScore": 2.5}, {"painScore": "type"}),
    ({"painScore": True}, {"painScore": "type"}),
    ({}, {"painScore": "required"}),
    ({"painScore": None, "mobility": "assisted"}, {"painScore": "required"}),
    ({"painScore": -1}, {"painScore": "min"}),
    ({"painScore": 11}, {"painScore": "max"}),
    ({"painScore": 3, "mobility": "flying"}, {"mobility": "type"}),
    ({"painScore": 3, "pain": 3}, {"pain": "unknown"}),
    ({"painScore": "x", "mobility": "flying", "extra": 1}, {"painScore": "type", "mobility": "type", "extra": "unknown"}),
])
def test_invalid_form_data_is_refused_per_field_and_changes_nothing(
    svc: Service, session_factory: sessionmaker[Session], pid: str, submitted: dict, errors: dict[str, str]
) -> None:
    task = ready(svc, pid)["Task_reassess"]
    audits, version = audit_count(session_factory), svc.pathway(pid)["version"]
    with pytest.raises(InvalidInput) as refused:
        svc.complete(task["id"], submitted, actor="clinician:bob")
    assert refused.value.status == 422
    assert {e.field: e.code for e in refused.value.errors} == errors
    assert all(e.message for e in refused.value.errors)
    assert audit_count(session_factory) == audits
    assert svc.pathway(pid)["version"] == version
    after = svc.task(task["id"])
    assert (after["status"], after["etag"]) == ("ready", task["etag"])


def test_valid_form_data_is_coerced_and_accepted(svc: Service, pid: str) -> None:
    task = ready(svc, pid)["Task_reassess"]
    result = svc.complete(task["id"], {"painScore": 10.0, "mobility": "independent"}, actor="clinician:bob")
    assert result["task"]["status"] == "completed" and result["task"]["completedBy"] == "clinician:bob"
    assert svc.timeline(pid)[-1]["details"]["variables"] == ["mobility", "painScore"]


# -- refusals ---------------------------------------------------------------------------------------
def test_stale_if_match_is_refused(svc: Service, session_factory: sessionmaker[Session], pid: str) -> None:
    task = ready(svc, pid)["Task_reassess"]
    seen = svc.task(task["id"])["etag"]
    svc.claim(task["id"], actor="clinician:bob")  # someone else changed the task since
    audits = audit_count(session_factory)
    with pytest.raises(PreconditionFailed) as refused:
        svc.complete(task["id"], {"painScore": 3}, actor="clinician:bob", if_match=seen)
    assert refused.value.status == 412
    assert audit_count(session_factory) == audits
    current = svc.task(task["id"])["etag"]
    assert current != seen
    svc.complete(task["id"], {"painScore": 3}, actor="clinician:bob", if_match=f'"{current}"')
    assert svc.task(task["id"])["status"] == "completed"


def test_completing_a_completed_task_is_a_conflict(
    svc: Service, session_factory: sessionmaker[Session], pid: str
) -> None:
    task = ready(svc, pid)["Task_reassess"]
    svc.complete(task["id"], {"painScore": 3}, actor="clinician:bob")
    audits, version = audit_count(session_factory), svc.pathway(pid)["version"]
    for attempt in (lambda: svc.complete(task["id"], {"painScore": 4}, actor="clinician:bob"),
                    lambda: svc.claim(task["id"], actor="clinician:eve")):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.status == 409
    assert audit_count(session_factory) == audits and svc.pathway(pid)["version"] == version


def test_a_task_claimed_by_one_user_cannot_be_completed_by_another(
    svc: Service, session_factory: sessionmaker[Session], pid: str
) -> None:
    task = ready(svc, pid)["Task_reassess"]
    assert svc.claim(task["id"], actor="clinician:alice")["assignee"] == "clinician:alice"
    audits = audit_count(session_factory)
    with pytest.raises(Conflict):
        svc.complete(task["id"], {"painScore": 3}, actor="clinician:bob")
    with pytest.raises(Conflict):
        svc.claim(task["id"], actor="clinician:bob")
    assert audit_count(session_factory) == audits
    assert svc.task(task["id"])["status"] == "ready"
    svc.unclaim(task["id"], actor="clinician:alice")
    svc.complete(task["id"], {"painScore": 3}, actor="clinician:bob")
    assert svc.task(task["id"])["completedBy"] == "clinician:bob"
    assert [e["action"] for e in svc.timeline(pid)][-3:] == ["task.claim", "task.unclaim", "task.complete"]


@pytest.mark.parametrize("message", ["NoSuchMessage", "redflagreported", "RedFlagReported"])
def test_a_message_the_pathway_is_not_waiting_for_is_a_conflict(
    svc: Service, session_factory: sessionmaker[Session], message: str
) -> None:
    # Urgent path: no sub-process, so not even the red-flag message is awaited.
    pid = svc.enroll(KEY, actor="coordinator:ann", variables={**ROUTINE, "neuroDeficit": True})
    audits, view = audit_count(session_factory), svc.pathway(pid)
    with pytest.raises(Conflict) as refused:
        svc.correlate_message(pid, message, actor="gp:carol", variables={"note": "x"})
    assert refused.value.status == 409
    assert audit_count(session_factory) == audits
    after = svc.pathway(pid)
    assert (after["version"], after["activeElements"]) == (view["version"], view["activeElements"])
    assert "note" not in after["variables"]


def test_messages_to_a_completed_pathway_are_a_conflict(
    svc: Service, session_factory: sessionmaker[Session]
) -> None:
    pid = svc.enroll(KEY, actor="coordinator:ann", variables={**ROUTINE, "painScore": 9})
    svc.complete(ready(svc, pid)["Task_urgent_review"]["id"], {}, actor="clinician:bob")
    assert svc.pathway(pid)["status"] == "completed"
    audits = audit_count(session_factory)
    with pytest.raises(Conflict):
        svc.correlate_message(pid, "PatientWithdrew", actor="coordinator:ann")
    assert audit_count(session_factory) == audits
