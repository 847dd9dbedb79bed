"""New definition versions: running patients stay on theirs; migrate reports (dry run) then moves them."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from api.testkit import BUNDLE, audit_count, bearer

pytest_plugins = ["api.testing"]

V1 = (BUNDLE / "engine_acceptance.bpmn").read_text()
DMN = (BUNDLE / "triage.dmn").read_bytes()
# v2: a renamed 3-month task and a second candidate group on the chase task.
V2 = V1.replace('name="3-month reassessment"', 'name="3-month review"').replace(
    'name="Chase overdue reassessment" camunda:candidateGroups="coordinator"',
    'name="Chase overdue reassessment" camunda:candidateGroups="coordinator, nurse"')
# v3: the 3-month timer is gone (the review follows the reassessment at once).
V3 = (V1.replace('<bpmn:outgoing>Flow_s2</bpmn:outgoing>\n      </bpmn:userTask>',
                 '<bpmn:outgoing>Flow_s2</bpmn:outgoing>\n      </bpmn:userTask>', 1)
      .replace('<bpmn:incoming>Flow_s3</bpmn:incoming>', '<bpmn:incoming>Flow_s2</bpmn:incoming>')
      .replace('<bpmn:sequenceFlow id="Flow_s2" sourceRef="Task_reassess" targetRef="Timer_3m" />',
               '<bpmn:sequenceFlow id="Flow_s2" sourceRef="Task_reassess" targetRef="Task_three_month" />')
      .replace('<bpmn:sequenceFlow id="Flow_s3" sourceRef="Timer_3m" targetRef="Task_three_month" />', ''))
_start = V3.index('<bpmn:intermediateCatchEvent id="Timer_3m"')
_end = V3.index('</bpmn:intermediateCatchEvent>') + len('</bpmn:intermediateCatchEvent>')
V3 = V3[:_start] + V3[_end:]
V3 = "\n".join(line for line in V3.splitlines() if 'bpmnElement="Timer_3m"' not in line
               and 'bpmnElement="Flow_s3"' not in line)


def _deploy(client: FlaskClient, token: str, bpmn: str) -> dict[str, Any]:
    data = {"f1": (io.BytesIO(bpmn.encode()), "engine_acceptance.bpmn"), "f2": (io.BytesIO(DMN), "triage.dmn")}
    r = client.post("/api/definitions", data=data, headers=bearer(token), content_type="multipart/form-data")
    assert r.status_code in (200, 201), r.json
    return r.json


def _enroll(client: FlaskClient, token: str, mrn: str) -> str:
    patient = client.post("/api/patients", json={"externalId": mrn}, headers=bearer(token)).json["id"]
    r = client.post(f"/api/patients/{patient}/pathways", headers=bearer(token), json={
        "definition": "engine_acceptance", "variables": {"painScore": 4, "neuroDeficit": False,
                                                         "fractureDate": "2026-01-01"}})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _state(client: FlaskClient, token: str, pathway: str) -> dict[str, Any]:
    return client.get(f"/api/pathways/{pathway}", headers=bearer(token)).json


def test_versions_listing_and_xml(client: FlaskClient, tokens: dict[str, str]) -> None:
    lead = tokens["clinical_lead"]
    assert _deploy(client, lead, V1)["version"] == 1
    again = _deploy(client, lead, V1)
    assert again["version"] == 1 and again["created"] is False
    assert _deploy(client, lead, V2)["version"] == 2
    items = client.get("/api/definitions", headers=bearer(tokens["api_client"])).json["items"]
    assert [(d["key"], d["version"]) for d in items] == [("engine_acceptance", 1), ("engine_acceptance", 2)]
    detail = client.get("/api/definitions/engine_acceptance/versions/2", headers=bearer(lead)).json
    assert detail["files"] == ["engine_acceptance.bpmn", "triage.dmn"]
    xml = client.get("/api/definitions/engine_acceptance/versions/2/bpmn", headers=bearer(lead))
    assert xml.mimetype == "application/xml" and xml.get_data(as_text=True) == V2
    assert client.get("/api/definitions/engine_acceptance/versions/9", headers=bearer(lead)).status_code == 404


def test_new_version_leaves_running_patients_and_migrate(app: Flask, client: FlaskClient,
                                                         tokens: dict[str, str]) -> None:
    lead, coordinator = tokens["clinical_lead"], tokens["coordinator"]
    _deploy(client, lead, V1)
    at_timer = _enroll(client, coordinator, "MRN-V1")
    at_task = _enroll(client, coordinator, "MRN-V2")
    [task] = client.get("/api/tasks", query_string={"pathwayId": at_timer}, headers=bearer(coordinator)).json["items"]
    client.post("/api/clock", json={"advance": "P1W"}, headers=bearer(coordinator))
    assert client.post(f"/api/tasks/{task['id']}/complete", json={"variables": {"painScore": 2}},
                       headers=bearer(coordinator)).status_code == 200
    waiting = _state(client, lead, at_timer)
    assert "Timer_3m" in waiting["activeElements"]
    due = waiting["nextDueAt"]
    assert due == "2026-04-12T09:00:00+00:00"

    _deploy(client, lead, V2)
    assert _state(client, lead, at_timer)["definition"]["version"] == 1
    assert _state(client, lead, at_task)["definition"]["version"] == 1
    assert _state(client, lead, _enroll(client, coordinator, "MRN-V3"))["definition"]["version"] == 2

    before = audit_count(app)
    r = client.post(f"/api/pathways/{at_timer}/migrate", json={"version": 2, "dryRun": True}, headers=bearer(lead))
    assert r.status_code == 200, r.json
    plan = r.json
    assert plan["dryRun"] is True and plan["migrated"] is False and plan["possible"] is True
    assert (plan["fromVersion"], plan["toVersion"]) == (1, 2)
    assert {"elementId": "Timer_3m", "to": "Timer_3m", "state": "waiting"} in plan["moves"]
    [timer] = plan["timers"]
    assert {k: timer[k] for k in ("elementId", "due", "dueAfter", "kept", "choice", "dueIfRecomputed")} == {
        "elementId": "Timer_3m", "due": due, "dueAfter": due, "kept": True, "choice": "keep", "dueIfRecomputed": due}
    assert audit_count(app) == before
    assert _state(client, lead, at_timer)["definition"]["version"] == 1

    r = client.post(f"/api/pathways/{at_timer}/migrate", json={"version": 2}, headers=bearer(lead))
    assert r.status_code == 200 and r.json["migrated"] is True
    moved = _state(client, lead, at_timer)
    assert moved["definition"]["version"] == 2 and moved["nextDueAt"] == due
    last = client.get(f"/api/pathways/{at_timer}/timeline", headers=bearer(lead)).json["items"][-1]
    assert (last["action"], last["actor"]) == ("pathway.migrate", "clinical_lead-user")
    assert last["details"]["to"] == {"key": "engine_acceptance", "version": 2}

    # The pathway waiting on its reassessment keeps the task (same id, same due) and its 6-week timer.
    [open_task] = client.get("/api/tasks", query_string={"pathwayId": at_task}, headers=bearer(lead)).json["items"]
    boundary_due = _state(client, lead, at_task)["nextDueAt"]
    r = client.post(f"/api/pathways/{at_task}/migrate", json={"version": 2, "dryRun": False}, headers=bearer(lead))
    assert r.status_code == 200, r.json
    assert {t["elementId"]: t["kept"] for t in r.json["timers"]} == {"Boundary_overdue": True}
    assert _state(client, lead, at_task)["nextDueAt"] == boundary_due
    [same] = client.get("/api/tasks", query_string={"pathwayId": at_task}, headers=bearer(lead)).json["items"]
    assert (same["id"], same["due"], same["createdAt"]) == (open_task["id"], open_task["due"], open_task["createdAt"])

    # Time moves on and the migrated pathway follows version 2.
    client.post("/api/clock", json={"advance": "P3M"}, headers=bearer(lead))
    review = client.get("/api/tasks", query_string={"pathwayId": at_timer, "candidateGroup": "clinician"},
                        headers=bearer(lead)).json["items"]
    assert [t["name"] for t in review] == ["3-month review"]
    assert client.post(f"/api/pathways/{at_timer}/migrate", json={"version": 2}, headers=bearer(lead)).status_code == 409


def test_migration_that_cannot_work_is_refused(app: Flask, client: FlaskClient, tokens: dict[str, str]) -> None:
    lead, coordinator = tokens["clinical_lead"], tokens["coordinator"]
    _deploy(client, lead, V1)
    pathway = _enroll(client, coordinator, "MRN-V9")
    [task] = client.get("/api/tasks", query_string={"pathwayId": pathway}, headers=bearer(coordinator)).json["items"]
    client.post(f"/api/tasks/{task['id']}/complete", json={"variables": {"painScore": 2}}, headers=bearer(coordinator))
    assert _deploy(client, lead, V3)["version"] == 2
    plan = client.post(f"/api/pathways/{pathway}/migrate", json={"version": 2, "dryRun": True},
                       headers=bearer(lead)).json
    assert plan["possible"] is False and any("Timer_3m" in b for b in plan["blocking"])
    before = audit_count(app)
    r = client.post(f"/api/pathways/{pathway}/migrate", json={"version": 2}, headers=bearer(lead))
    assert r.status_code == 409 and "Timer_3m" in r.json["detail"]
    assert audit_count(app) == before and _state(client, lead, pathway)["definition"]["version"] == 1
    assert client.post(f"/api/pathways/{pathway}/migrate", json={"version": 5}, headers=bearer(lead)).status_code == 404
