"""Suspend, resume and cancel a pathway over HTTP, with roles and audit."""

from __future__ import annotations

from flask.testing import FlaskClient

from api.testkit import bearer, bundle_files

pytest_plugins = ["api.testing"]


def _pathway(client: FlaskClient, tokens: dict[str, str]) -> str:
    lead, coordinator = bearer(tokens["clinical_lead"]), bearer(tokens["coordinator"])
    assert client.post("/api/definitions", data=bundle_files(), headers=lead,
                       content_type="multipart/form-data").status_code == 201
    patient = client.post("/api/patients", json={"externalId": "MRN-STATUS"}, headers=coordinator).json["id"]
    return client.post(f"/api/patients/{patient}/pathways", headers=coordinator, json={
        "definition": "engine_acceptance",
        "variables": {"painScore": 2, "neuroDeficit": False, "fractureDate": "2026-01-01"}}).json["id"]


def test_suspend_resume_cancel(client: FlaskClient, tokens: dict[str, str]) -> None:
    pid = _pathway(client, tokens)
    lead = bearer(tokens["clinical_lead"])
    assert client.post(f"/api/pathways/{pid}/suspend", json={}, headers=bearer(tokens["coordinator"])).status_code == 403
    r = client.post(f"/api/pathways/{pid}/suspend", json={"reason": "admitted"}, headers=lead)
    assert r.status_code == 200 and r.json["status"] == "suspended"
    assert client.post(f"/api/pathways/{pid}/suspend", json={}, headers=lead).status_code == 409
    assert client.post(f"/api/pathways/{pid}/resume", json={}, headers=lead).json["status"] == "running"
    assert client.post(f"/api/pathways/{pid}/cancel", json={"reason": "duplicate"}, headers=lead).json["status"] \
        == "cancelled"
    items = client.get("/api/tasks", query_string={"pathwayId": pid}, headers=lead).json["items"]
    assert items == []
    timeline = client.get(f"/api/pathways/{pid}/timeline", headers=lead).json["items"]
    assert [(e["action"], e["reason"]) for e in timeline[-3:]] == [
        ("pathway.suspend", "admitted"), ("pathway.resume", None), ("pathway.cancel", "duplicate")]
    assert client.post(f"/api/pathways/{pid}/explode", json={}, headers=lead).status_code in (404, 405)


def test_a_user_with_groups_may_only_work_tasks_of_their_groups(app, client: FlaskClient,
                                                                 tokens: dict[str, str]) -> None:
    from api.state import service
    from engine.store import create_token

    pid = _pathway(client, tokens)
    with app.app_context():
        svc = service()
        with svc.ctx.write() as session:
            cora = create_token(session, "cora", "coordinator", svc.clock.now(), groups=["coordinator"])
            li = create_token(session, "dr-li", "coordinator", svc.clock.now(), groups=["clinician"])
    r = client.post(f"/api/pathways/{pid}/messages/RedFlagReported", json={}, headers=bearer(tokens["coordinator"]))
    assert r.status_code == 200
    (urgent,) = client.get("/api/tasks", query_string={"pathwayId": pid}, headers=bearer(cora)).json["items"]
    r = client.post(f"/api/tasks/{urgent['id']}/complete", json={"variables": {}}, headers=bearer(cora))
    assert r.status_code == 403 and r.is_json and "clinician" in r.json["detail"]
    r = client.post(f"/api/tasks/{urgent['id']}/complete", json={"variables": {}}, headers=bearer(li))
    assert r.status_code == 200
    timeline = client.get(f"/api/pathways/{pid}/timeline", headers=bearer(li)).json["items"]
    assert timeline[-1]["actor"] == "dr-li" and timeline[-1]["action"] == "task.complete"
