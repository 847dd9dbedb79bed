"""Migration plans (issue 11): the dry run lists, per patient, each waiting timer with its kept and
recomputed due time, each decision whose result would now differ, and the tasks the new version
adds that this patient will not get; the lead chooses per timer and per decision, and the real
migration then does exactly what the dry run said."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from api.testkit import BUNDLE, audit_count, bearer

pytest_plugins = ["api.testing"]

V1 = (BUNDLE / "engine_acceptance.bpmn").read_text()
DMN = (BUNDLE / "triage.dmn").read_text()


def _task_on_flow(bpmn: str, flow: str, source: str, target: str, task: str, name: str) -> str:
    """A user task inserted on a flow, as the Modeler does when a task is dropped on it."""
    old = f'<bpmn:sequenceFlow id="{flow}" sourceRef="{source}" targetRef="{target}" />'
    assert old in bpmn
    new = (f'<bpmn:sequenceFlow id="{flow}" sourceRef="{source}" targetRef="{task}" />'
           f'<bpmn:userTask id="{task}" name="{name}" camunda:candidateGroups="coordinator">'
           f"<bpmn:incoming>{flow}</bpmn:incoming><bpmn:outgoing>{flow}_next</bpmn:outgoing></bpmn:userTask>"
           f'<bpmn:sequenceFlow id="{flow}_next" sourceRef="{task}" targetRef="{target}" />')
    incoming = f"<bpmn:incoming>{flow}</bpmn:incoming>"
    at = bpmn.index(f'id="{target}"')
    at = bpmn.index(incoming, at)
    bpmn = bpmn[:at] + f"<bpmn:incoming>{flow}_next</bpmn:incoming>" + bpmn[at + len(incoming):]
    return bpmn.replace(old, new)


# version 2: the triage threshold, the 3-month interval, a task on a branch already passed and
# a task still ahead
V2 = _task_on_flow(_task_on_flow(V1.replace("<bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">P3M<",
                                            "<bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">P13W<"),
                                 "Flow_2", "Activity_triage", "Gateway_urgency", "Task_added_passed",
                                 "Confirm the triage"),
                   "Flow_s3", "Timer_3m", "Task_three_month", "Task_added_ahead", "Book the 3-month visit")
DMN2 = DMN.replace("&gt;= 8", "&gt;= 4")
POLICY = '<bpmn:extensionElements><camunda:properties><camunda:property name="refreshOnMigration" value="true" />' \
         "</camunda:properties></bpmn:extensionElements>"
V2_POLICY = V2.replace('camunda:mapDecisionResult="singleEntry">',
                       f'camunda:mapDecisionResult="singleEntry">{POLICY}', 1)


def _deploy(client: FlaskClient, token: str, bpmn: str, dmn: str) -> int:
    data = {"f1": (io.BytesIO(bpmn.encode()), "engine_acceptance.bpmn"), "f2": (io.BytesIO(dmn.encode()), "triage.dmn")}
    r = client.post("/api/definitions", data=data, headers=bearer(token), content_type="multipart/form-data")
    assert r.status_code == 201, r.json
    return r.json["version"]


def _waiting_at_three_months(client: FlaskClient, tokens: dict[str, str], mrn: str) -> str:
    """A routine patient (pain 4) whose 4-6 week reassessment is done: the 3-month timer waits."""
    coordinator = bearer(tokens["coordinator"])
    patient = client.post("/api/patients", json={"externalId": mrn}, headers=coordinator).json["id"]
    pathway = client.post(f"/api/patients/{patient}/pathways", headers=coordinator, json={
        "definition": "engine_acceptance", "version": 1,
        "variables": {"painScore": 4, "neuroDeficit": False, "fractureDate": "2026-01-01"}}).json["id"]
    [task] = client.get("/api/tasks", query_string={"pathwayId": pathway}, headers=coordinator).json["items"]
    client.post("/api/clock", json={"advance": "P1W"}, headers=bearer(tokens["admin"]))
    done = client.post(f"/api/tasks/{task['id']}/complete", json={"variables": {"painScore": 4}}, headers=coordinator)
    assert done.status_code == 200, done.json
    return pathway


def _migrate(client: FlaskClient, token: str, pathway: str, **body: Any) -> Any:
    return client.post(f"/api/pathways/{pathway}/migrate", json={"version": 2, **body}, headers=bearer(token))


def _state(client: FlaskClient, token: str, pathway: str) -> dict[str, Any]:
    return client.get(f"/api/pathways/{pathway}", headers=bearer(token)).json


def _plan_only(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in ("dryRun", "migrated")}


def test_the_dry_run_lists_timers_decisions_and_tasks_this_patient_will_not_get(
        app: Flask, client: FlaskClient, tokens: dict[str, str]) -> None:
    lead = tokens["clinical_lead"]
    _deploy(client, lead, V1, DMN)
    pathway = _waiting_at_three_months(client, tokens, "MRN-P1")
    kept_due = _state(client, lead, pathway)["nextDueAt"]
    assert kept_due == "2026-04-12T09:00:00+00:00"  # reached on 12 January, plus 3 months
    assert _deploy(client, lead, V2, DMN2) == 2

    before = audit_count(app)
    plan = _migrate(client, lead, pathway, dryRun=True).json
    assert audit_count(app) == before and _state(client, lead, pathway)["definition"]["version"] == 1
    [timer] = plan["timers"]
    assert (timer["elementId"], timer["due"], timer["dueIfRecomputed"], timer["choice"], timer["dueAfter"]) == (
        "Timer_3m", kept_due, "2026-04-13T09:00:00+00:00", "keep", kept_due)  # 13 weeks from 12 January
    assert "earlier than the new version would" in timer["note"]
    [decision] = plan["decisions"]
    assert {k: decision[k] for k in ("elementId", "decision", "variable", "current", "new", "choice")} == {
        "elementId": "Activity_triage", "decision": "Triage", "variable": "urgency", "current": "routine",
        "new": "urgent", "choice": "keep"}
    assert [t["elementId"] for t in plan["addedNotReached"]] == ["Task_added_passed"]  # not the one ahead
    assert sorted(plan["added"]) == ["Task_added_ahead", "Task_added_passed"]  # flows are not tasks


def test_the_real_migration_does_what_the_dry_run_said_choice_by_choice(
        app: Flask, client: FlaskClient, tokens: dict[str, str]) -> None:
    lead = tokens["clinical_lead"]
    _deploy(client, lead, V1, DMN)
    kept, changed = (_waiting_at_three_months(client, tokens, mrn) for mrn in ("MRN-K", "MRN-C"))
    _deploy(client, lead, V2, DMN2)
    for pathway, choices in ((kept, {}),
                             (changed, {"timers": {"Timer_3m": "recompute"}, "decisions": {"Activity_triage": "refresh"}})):
        dry = _migrate(client, lead, pathway, dryRun=True, **choices).json
        real = _migrate(client, lead, pathway, **choices)
        assert real.status_code == 200 and real.json["migrated"] is True
        assert _plan_only(real.json) == _plan_only(dry)  # timer by timer, decision by decision
        state = _state(client, lead, pathway)
        [timer] = real.json["timers"]
        assert state["nextDueAt"] == timer["dueAfter"]
        [decision] = real.json["decisions"]
        assert state["variables"]["urgency"] == (decision["new"] if decision["choice"] == "refresh"
                                                 else decision["current"])
        last = client.get(f"/api/pathways/{pathway}/timeline", headers=bearer(lead)).json["items"][-1]
        assert last["action"] == "pathway.migrate" and last["details"]["timers"] == real.json["timers"]
        assert last["details"]["decisions"] == real.json["decisions"]
        if pathway == changed:  # reached on 19 January: 13 weeks on, not 3 months (19 April)
            assert (timer["due"], timer["dueAfter"]) == ("2026-04-19T09:00:00+00:00", "2026-04-20T09:00:00+00:00")
        else:
            assert timer["dueAfter"] == timer["due"] == "2026-04-12T09:00:00+00:00"
    assert _state(client, lead, changed)["variables"]["urgency"] == "urgent"


def test_a_stored_copy_of_policy_is_refreshed_unless_the_lead_keeps_it(client: FlaskClient,
                                                                       tokens: dict[str, str]) -> None:
    lead = tokens["clinical_lead"]
    _deploy(client, lead, V1, DMN)
    refreshed, kept = (_waiting_at_three_months(client, tokens, mrn) for mrn in ("MRN-R", "MRN-S"))
    _deploy(client, lead, V2_POLICY, DMN2)
    plan = _migrate(client, lead, refreshed, dryRun=True).json
    [decision] = plan["decisions"]
    assert (decision["refreshOnMigration"], decision["choice"]) == (True, "refresh")
    assert _migrate(client, lead, refreshed).status_code == 200
    assert _state(client, lead, refreshed)["variables"]["urgency"] == "urgent"
    assert _migrate(client, lead, kept, decisions={"Activity_triage": "keep"}).status_code == 200
    assert _state(client, lead, kept)["variables"]["urgency"] == "routine"


def test_a_choice_for_something_the_plan_does_not_list_is_refused_and_changes_nothing(
        app: Flask, client: FlaskClient, tokens: dict[str, str]) -> None:
    lead = tokens["clinical_lead"]
    _deploy(client, lead, V1, DMN)
    pathway = _waiting_at_three_months(client, tokens, "MRN-X")
    _deploy(client, lead, V2, DMN2)
    before = audit_count(app)
    for body in ({"timers": {"Task_reassess": "recompute"}}, {"decisions": {"Nope": "refresh"}},
                 {"timers": {"Timer_3m": "later"}}):
        r = _migrate(client, lead, pathway, **body)
        assert r.status_code == 422 and r.content_type == "application/problem+json", (body, r.json)
    assert audit_count(app) == before and _state(client, lead, pathway)["definition"]["version"] == 1


def test_an_added_task_the_patient_passed_can_be_started_on_purpose_and_nothing_follows_it(
        client: FlaskClient, tokens: dict[str, str]) -> None:
    lead, coordinator = tokens["clinical_lead"], bearer(tokens["coordinator"])
    _deploy(client, lead, V1, DMN)
    pathway = _waiting_at_three_months(client, tokens, "MRN-A")
    _deploy(client, lead, V2, DMN2)
    assert _migrate(client, lead, pathway, start=["Task_added_ahead"]).status_code == 422  # it will get that one
    dry = _migrate(client, lead, pathway, dryRun=True, start=["Task_added_passed"]).json
    assert [(t["elementId"], t["start"]) for t in dry["addedNotReached"]] == [("Task_added_passed", True)]
    assert client.get("/api/tasks", query_string={"pathwayId": pathway}, headers=coordinator).json["items"] == []

    real = _migrate(client, lead, pathway, start=["Task_added_passed"])
    assert real.status_code == 200 and _plan_only(real.json) == _plan_only(dry)
    [task] = client.get("/api/tasks", query_string={"pathwayId": pathway}, headers=coordinator).json["items"]
    assert (task["elementId"], task["name"]) == ("Task_added_passed", "Confirm the triage")
    before = _state(client, lead, pathway)
    done = client.post(f"/api/tasks/{task['id']}/complete", json={"variables": {}}, headers=coordinator)
    assert done.status_code == 200, done.json
    after = _state(client, lead, pathway)
    # the patient stays where they were: still waiting at 3 months, no second triage, no new task
    assert "Task_added_passed" in before["activeElements"]
    assert after["activeElements"] == [e for e in before["activeElements"] if e != "Task_added_passed"]
    assert after["nextDueAt"] == before["nextDueAt"]
    assert client.get("/api/tasks", query_string={"pathwayId": pathway}, headers=coordinator).json["items"] == []
    assert "Task_added_passed" in after["completedElements"]
