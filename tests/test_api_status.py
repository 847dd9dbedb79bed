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
