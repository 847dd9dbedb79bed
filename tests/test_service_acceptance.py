"""Acceptance: the Camunda-Modeler bundle (tests/fixtures/bundle) runs through the service layer.

Every step goes through ``engine.service.Service`` on a ``SimulatedClock``, so the instance is
written to and read back from the database between steps; some steps use a brand-new
``Service`` (empty bundle cache) over the same database. Runs on SQLite and PostgreSQL.

The fixture: DMN triage (FIRST) -> FEEL gateway ``${urgency = "urgent"}``; routine goes into a
sub-process whose reassessment task has a FEEL due date, a P2W follow-up and a non-interrupting
P6W boundary timer (chase task), then a P3M timer; a red-flag message boundary interrupts the
whole sub-process; a withdrawal message starts an interrupting event sub-process.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.service import Conflict, Service

BUNDLE = Path(__file__).parent / "fixtures" / "bundle"
KEY = "engine_acceptance"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
FRACTURE = date(2026, 1, 2)
ROUTINE = {"neuroDeficit": False, "painScore": 5, "fractureDate": FRACTURE}
SECOND = timedelta(seconds=1)


# -- helpers ----------------------------------------------------------------------------------
def bundle_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(BUNDLE.iterdir()) if p.suffix in (".bpmn", ".dmn")}


def at(instant: datetime) -> str:
    return instant.isoformat()


def ready(svc: Service, pid: str) -> dict[str, dict]:
    """Ready tasks of one pathway by BPMN element id (each element at most once here)."""
    items = svc.tasks(pathway_id=pid)["items"]
    by_element = {t["elementId"]: t for t in items}
    assert len(by_element) == len(items), f"duplicate ready tasks: {[t['elementId'] for t in items]}"
    return by_element


def all_tasks(svc: Service, pid: str) -> list[tuple[str, str]]:
    return sorted((t["elementId"], t["status"]) for t in svc.tasks(pathway_id=pid, status=None)["items"])


def advance_and_fire(svc: Service, clock: SimulatedClock, to: datetime) -> list[dict]:
    clock.set(to)
    return svc.fire_due_timers()


def assert_audited(timeline: list[dict], expected: list[tuple[str, str, datetime]]) -> None:
    """Every event names who did what when; the trail is exactly the expected steps, in order."""
    for event in timeline:
        assert event["actor"] and event["action"] and event["at"]
        assert event["after"] is not None and "status" in event["after"]
    assert [(e["action"], e["actor"], e["at"]) for e in timeline] == [(a, who, at(t)) for a, who, t in expected]


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0)


@pytest.fixture
def svc(session_factory: sessionmaker[Session], clock: SimulatedClock) -> Service:
    service = Service(session_factory, clock)
    assert service.deploy(bundle_files(), actor="lead:dana")["version"] == 1
    return service


# -- routine path ------------------------------------------------------------------------------
def test_routine_enrolment_projects_the_reassessment_task(svc: Service) -> None:
    pid = svc.enroll(KEY, actor="coordinator:ann", variables=ROUTINE)

    view = svc.pathway(pid)
    assert view["status"] == "running"
    assert view["definition"] == {"key": KEY, "version": 1}
    assert view["variables"]["urgency"] == "routine"
    assert {"Sub_conservative", "Task_reassess", "Boundary_overdue", "Boundary_redflag"} <= set(view["activeElements"])
    assert {"Activity_triage", "Gateway_urgency"} <= set(view["completedElements"])
    assert "Task_urgent_review" not in view["activeElements"]
    assert view["waitingMessages"] == ["PatientWithdrew", "RedFlagReported"]
    assert view["timers"] == [{"elementId": "Boundary_overdue", "due": at(T0 + timedelta(weeks=6))}]
    assert view["nextDueAt"] == at(T0 + timedelta(weeks=6))

    task = ready(svc, pid)["Task_reassess"]
    assert task["candidateGroups"] == ["clinician", "coordinator"]
    assert task["due"] == at(datetime(2026, 1, 30, tzinfo=UTC))  # ${fractureDate + duration("P4W")}, midnight UTC
    assert task["followUp"] == at(T0 + timedelta(weeks=2))  # followUpDate P2W from creation
    assert task["createdAt"] == at(T0)
    assert task["assignee"] is None and task["status"] == "ready"
    # Worklist queries by candidate group use the projection rows.
    for group in ("coordinator", "clinician"):
        assert [t["id"] for t in svc.tasks(candidate_group=group, pathway_id=pid)["items"]] == [task["id"]]
    assert svc.tasks(candidate_group="physio", pathway_id=pid)["items"] == []
    form = {f["id"]: f for f in svc.task(task["id"])["form"]["fields"]}
    assert form["painScore"]["type"] == "long" and form["painScore"]["required"] is True
    assert [o["id"] for o in form["mobility"]["options"]] == ["independent", "assisted"]


def test_chase_timer_then_red_flag_cancels_the_whole_subprocess(
    svc: Service, clock: SimulatedClock, session_factory: sessionmaker[Session]
) -> None:
    pid = svc.enroll(KEY, actor="coordinator:ann", variables=ROUTINE)
    six_weeks = T0 + timedelta(weeks=6)
    versions = [svc.pathway(pid)["version"]]

    # One second early: nothing fires, nothing changes.
    assert advance_and_fire(svc, clock, six_weeks - SECOND) == []
    assert set(ready(svc, pid)) == {"Task_reassess"}
    assert svc.pathway(pid)["nextDueAt"] == at(six_weeks)
    assert svc.pathway(pid)["version"] == versions[-1]

    # Exactly when due, fired by a fresh service (nothing cached in memory).
    fired = advance_and_fire(Service(session_factory, clock), clock, six_weeks)
    assert fired == [{"pathwayId": pid, "fired": [{"elementId": "Boundary_overdue", "due": at(six_weeks)}]}]
    tasks = ready(svc, pid)
    assert set(tasks) == {"Task_reassess", "Task_chase"}  # non-interrupting: the reassessment stays
    assert tasks["Task_chase"]["candidateGroups"] == ["coordinator"]
    assert tasks["Task_chase"]["createdAt"] == at(six_weeks)
    assert svc.pathway(pid)["nextDueAt"] is None
    versions.append(svc.pathway(pid)["version"])

    # Reassessment done a day later: the 3-month timer starts from completion.
    done_at = clock.set(six_weeks + timedelta(days=1))  # 2026-02-17 09:00
    svc.complete(tasks["Task_reassess"]["id"], {"painScore": 3, "mobility": "assisted"}, actor="clinician:bob")
    view = svc.pathway(pid)
    three_months = datetime(2026, 5, 17, 9, 0, tzinfo=UTC)
    assert view["timers"] == [{"elementId": "Timer_3m", "due": at(three_months)}]
    assert set(ready(svc, pid)) == {"Task_chase"}
    versions.append(view["version"])

    # Red flag (fresh service): the whole sub-process goes, chase task and 3-month timer included.
    flagged_at = clock.advance(timedelta(days=2))
    Service(session_factory, clock).correlate_message(pid, "RedFlagReported", actor="gp:carol",
                                                      variables={"redFlagNote": "new leg weakness"})
    view = svc.pathway(pid)
    assert "Task_redflag" in view["activeElements"]
    assert not {"Sub_conservative", "Task_chase", "Timer_3m", "Boundary_overdue"} & set(view["activeElements"])
    assert view["timers"] == [] and view["nextDueAt"] is None
    assert view["waitingMessages"] == ["PatientWithdrew"]
    assert view["variables"]["redFlagNote"] == "new leg weakness"
    urgent = ready(svc, pid)
    assert set(urgent) == {"Task_redflag"}
    assert urgent["Task_redflag"]["candidateGroups"] == ["clinician"]
    assert urgent["Task_redflag"]["due"] == at(flagged_at + timedelta(hours=4))  # dueDate PT4H
    assert all_tasks(svc, pid) == [("Task_chase", "cancelled"), ("Task_reassess", "completed"),
                                   ("Task_redflag", "ready")]
    versions.append(view["version"])

    # The cancelled 3-month timer never fires.
    assert advance_and_fire(svc, clock, three_months + timedelta(days=1)) == []
    assert set(ready(svc, pid)) == {"Task_redflag"}

    svc.complete(urgent["Task_redflag"]["id"], {}, actor="clinician:bob")
    view = svc.pathway(pid)
    assert view["status"] == "completed" and view["activeElements"] == [] and view["waitingMessages"] == []
    versions.append(view["version"])
    assert versions == sorted(set(versions)), "every saved step bumps the instance version"

    end = three_months + timedelta(days=1)
    assert_audited(svc.timeline(pid), [
        ("pathway.enroll", "coordinator:ann", T0),
        ("timer.fire", "system:timer", six_weeks),
        ("task.complete", "clinician:bob", done_at),
        ("message.correlate", "gp:carol", flagged_at),
        ("task.complete", "clinician:bob", end),
    ])
    events = svc.timeline(pid)
    assert events[1]["details"]["fired"] == [{"elementId": "Boundary_overdue", "due": at(six_weeks)}]
    assert events[2]["taskId"] == tasks["Task_reassess"]["id"]
    assert events[3]["before"]["activeElements"] != events[3]["after"]["activeElements"]
    assert events[3]["details"]["tasks"]["cancelled"] == [tasks["Task_chase"]["id"]]


def test_routine_pathway_runs_to_completion_with_java_month_arithmetic(
    svc: Service, clock: SimulatedClock, session_factory: sessionmaker[Session]
) -> None:
    pid = svc.enroll(KEY, actor="coordinator:ann", variables=ROUTINE)
    task = ready(svc, pid)["Task_reassess"]

    # Completed on Jan 31, before the 6-week chase: P3M lands on Apr 30 (Camunda), not May 1.
    done_at = clock.set(datetime(2026, 1, 31, 9, 0, tzinfo=UTC))
    svc.complete(task["id"], {"painScore": 2}, actor="clinician:bob")
    three_months = datetime(2026, 4, 30, 9, 0, tzinfo=UTC)
    assert svc.pathway(pid)["timers"] == [{"elementId": "Timer_3m", "due": at(three_months)}]

    # The boundary timer left with its task: no chase at six weeks.
    assert advance_and_fire(svc, clock, T0 + timedelta(weeks=6)) == []
    assert ready(svc, pid) == {}
    assert advance_and_fire(svc, clock, three_months - SECOND) == []
    assert ready(svc, pid) == {}

    fresh = Service(session_factory, clock)
    assert advance_and_fire(fresh, clock, three_months) == [
        {"pathwayId": pid, "fired": [{"elementId": "Timer_3m", "due": at(three_months)}]}]
    review = ready(fresh, pid)["Task_three_month"]
    assert review["createdAt"] == at(three_months) and review["candidateGroups"] == ["clinician"]

    finished_at = clock.advance(timedelta(hours=3))
    result = fresh.complete(review["id"], {}, actor="clinician:eve")
    assert result["pathway"]["status"] == "completed"
    view = svc.pathway(pid)
    assert view["status"] == "completed" and view["nextDueAt"] is None
    assert {"Sub_end", "End_done", "Task_three_month"} <= set(view["completedElements"])
    assert all_tasks(svc, pid) == [("Task_reassess", "completed"), ("Task_three_month", "completed")]
    assert_audited(svc.timeline(pid), [
        ("pathway.enroll", "coordinator:ann", T0),
        ("task.complete", "clinician:bob", done_at),
        ("timer.fire", "system:timer", three_months),
        ("task.complete", "clinician:eve", finished_at),
    ])


def test_withdrawal_interrupts_everything_and_close_record_completes(
    svc: Service, clock: SimulatedClock, session_factory: sessionmaker[Session]
) -> None:
    pid = svc.enroll(KEY, actor="coordinator:ann", variables=ROUTINE)
    six_weeks = T0 + timedelta(weeks=6)
    advance_and_fire(svc, clock, six_weeks)
    clock.advance(timedelta(days=1))
    svc.complete(ready(svc, pid)["Task_reassess"]["id"], {"painScore": 4}, actor="clinician:bob")
    assert set(ready(svc, pid)) == {"Task_chase"} and svc.pathway(pid)["nextDueAt"] is not None

    withdrawn_at = clock.advance(timedelta(days=1))
    Service(session_factory, clock).correlate_message(pid, "PatientWithdrew", actor="coordinator:ann",
                                                      variables={"withdrawalReason": "moved away"})
    view = svc.pathway(pid)
    assert view["status"] == "running"
    assert not {"Sub_conservative", "Task_chase", "Timer_3m"} & set(view["activeElements"])
    assert "Task_close_record" in view["activeElements"]
    assert view["timers"] == [] and view["nextDueAt"] is None
    close = ready(svc, pid)
    assert set(close) == {"Task_close_record"}
    assert close["Task_close_record"]["candidateGroups"] == ["coordinator"]
    assert close["Task_close_record"]["createdAt"] == at(withdrawn_at)
    with pytest.raises(Conflict):
        svc.correlate_message(pid, "RedFlagReported", actor="gp:carol")

    assert advance_and_fire(svc, clock, six_weeks + timedelta(days=200)) == []  # the 3-month timer is gone
    closed_at = clock.now()
    svc.complete(close["Task_close_record"]["id"], {}, actor="coordinator:ann")
    view = svc.pathway(pid)
    assert view["status"] == "completed" and view["activeElements"] == []
    assert {"Start_withdraw", "Task_close_record", "End_withdraw"} <= set(view["completedElements"])
    assert all_tasks(svc, pid) == [("Task_chase", "cancelled"), ("Task_close_record", "completed"),
                                   ("Task_reassess", "completed")]
    assert [e["action"] for e in svc.timeline(pid)][-2:] == ["message.correlate", "task.complete"]
    assert svc.timeline(pid)[-1]["at"] == at(closed_at)


# -- urgent path (DMN hit policy FIRST, FEEL gateway condition) --------------------------------
@pytest.mark.parametrize(("neuro", "pain", "urgency"), [
    (True, 2, "urgent"),  # neurological deficit alone
    (False, 8, "urgent"),  # pain >= 8 alone (boundary)
    (True, 9, "urgent"),  # three rules match; FIRST takes the first, a string not a list
    (False, 7, "routine"),
    (False, 0, "routine"),
])
def test_triage_decides_the_path(svc: Service, clock: SimulatedClock, neuro: bool, pain: int, urgency: str) -> None:
    pid = svc.enroll(KEY, actor="coordinator:ann",
                     variables={"neuroDeficit": neuro, "painScore": pain, "fractureDate": FRACTURE})
    view = svc.pathway(pid)
    assert view["variables"]["urgency"] == urgency
    tasks = ready(svc, pid)
    if urgency == "routine":
        assert set(tasks) == {"Task_reassess"}
        return
    assert set(tasks) == {"Task_urgent_review"}
    review = tasks["Task_urgent_review"]
    assert review["due"] == at(T0 + timedelta(hours=4))  # ${now() + duration("PT4H")}
    assert review["priority"] == 90 and review["candidateGroups"] == ["clinician"]
    assert "Sub_conservative" not in view["activeElements"] and view["timers"] == []
    assert view["waitingMessages"] == ["PatientWithdrew"]
    with pytest.raises(Conflict):
        svc.correlate_message(pid, "RedFlagReported", actor="gp:carol")
    clock.advance(timedelta(hours=1))
    svc.complete(review["id"], {}, actor="clinician:bob")
    assert svc.pathway(pid)["status"] == "completed"
    assert "End_urgent" in svc.pathway(pid)["completedElements"]


# -- process-wide variables and event sub-process edge cases -------------------------------------
def test_values_submitted_inside_the_subprocess_are_pathway_variables(svc: Service) -> None:
    pid = svc.enroll(KEY, actor="coordinator:ann", variables=ROUTINE)
    svc.complete(ready(svc, pid)["Task_reassess"]["id"], {"painScore": 3, "mobility": "assisted"},
                 actor="clinician:bob")
    variables = svc.pathway(pid)["variables"]
    assert variables["painScore"] == 3 and variables["mobility"] == "assisted"


def test_values_submitted_inside_the_subprocess_survive_the_red_flag(
    svc: Service, clock: SimulatedClock, session_factory: sessionmaker[Session]
) -> None:
    pid = svc.enroll(KEY, actor="coordinator:ann", variables=ROUTINE)
    svc.complete(ready(svc, pid)["Task_reassess"]["id"], {"painScore": 3, "mobility": "assisted"},
                 actor="clinician:bob")
    svc.correlate_message(pid, "RedFlagReported", actor="gp:carol", variables={"redFlagNote": "weakness"})
    variables = Service(session_factory, clock).pathway(pid)["variables"]
    assert variables["painScore"] == 3 and variables["mobility"] == "assisted"
    assert variables["redFlagNote"] == "weakness" and variables["urgency"] == "routine"


def test_interrupting_withdrawal_cannot_fire_twice(svc: Service) -> None:
    pid = svc.enroll(KEY, actor="coordinator:ann", variables=ROUTINE)
    svc.correlate_message(pid, "PatientWithdrew", actor="coordinator:ann")
    first = ready(svc, pid)["Task_close_record"]["id"]
    assert "PatientWithdrew" not in svc.pathway(pid)["waitingMessages"]
    with pytest.raises(Conflict):
        svc.correlate_message(pid, "PatientWithdrew", actor="coordinator:ann")
    assert [t["id"] for t in ready(svc, pid).values()] == [first]


def test_close_record_can_be_completed_after_a_restart(
    svc: Service, clock: SimulatedClock, session_factory: sessionmaker[Session]
) -> None:
    # The service that triggered the event sub-process and the one finishing it parse the bundle
    # separately (a restart, or another worker), in either order.
    one = svc.enroll(KEY, actor="coordinator:ann", variables=ROUTINE)
    two = svc.enroll(KEY, actor="coordinator:ann", variables=ROUTINE)
    svc.correlate_message(one, "PatientWithdrew", actor="coordinator:ann")
    Service(session_factory, clock).correlate_message(two, "PatientWithdrew", actor="coordinator:ann")
    for pid, finisher in ((one, Service(session_factory, clock)), (two, svc)):
        finisher.complete(ready(finisher, pid)["Task_close_record"]["id"], {}, actor="coordinator:ann")
        assert finisher.pathway(pid)["status"] == "completed"
