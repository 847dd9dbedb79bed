"""Invalid input of every kind answers 4xx problem+json and changes nothing (the audit trail proves it)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.testkit import audit_count, bearer, bundle_files, close_app, issue_tokens, make_app

pytest_plugins = ["api.testing"]


@pytest.fixture
def world(app: Flask, client: FlaskClient, tokens: dict[str, str]) -> dict[str, Any]:
    lead, coordinator = bearer(tokens["clinical_lead"]), bearer(tokens["coordinator"])
    assert client.post("/api/definitions", data=bundle_files(), headers=lead).status_code == 201
    patient = client.post("/api/patients", json={"externalId": "MRN-I"}, headers=coordinator).json["id"]
    pathway = client.post(f"/api/patients/{patient}/pathways", headers=coordinator, json={
        "definition": "engine_acceptance",
        "variables": {"painScore": 4, "neuroDeficit": False, "fractureDate": "2026-01-01"}}).json
    [task] = client.get("/api/tasks", query_string={"pathwayId": pathway["id"]}, headers=coordinator).json["items"]
    return {"patient": patient, "pathway": pathway["id"], "task": task["id"], "auth": coordinator, "lead": lead}


def _cases(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], int]]:
    p, pw, t = w["patient"], w["pathway"], w["task"]
    return [
        # types
        ("POST", "/api/patients", {"json": {"externalId": 42}}, 422),
        ("POST", "/api/patients", {"json": {"externalId": "X", "birthDate": "yesterday"}}, 422),
        ("POST", "/api/patients", {"json": {"externalId": "X", "sex": "robot"}}, 422),
        ("POST", f"/api/patients/{p}/pathways", {"json": {"definition": "engine_acceptance", "version": "one"}}, 422),
        ("POST", f"/api/patients/{p}/pathways", {"json": {"definition": "engine_acceptance", "variables": []}}, 422),
        ("POST", f"/api/tasks/{t}/complete", {"json": {"variables": "painScore=3"}}, 422),
        ("POST", "/api/clock", {"json": {"advance": 6}}, 422),
        ("POST", "/api/clock", {"json": {"set": "2026-13-01T00:00:00Z"}}, 422),
        ("POST", "/api/decisions/Triage/evaluate", {"json": {"inputs": [1, 2]}}, 422),
        ("GET", "/api/tasks?limit=ten", {}, 422),
        ("GET", "/api/tasks?dueBefore=soon", {}, 422),
        ("GET", "/api/tasks?overdue=perhaps", {}, 422),
        # ranges
        ("POST", f"/api/patients/{p}/pathways", {"json": {"definition": "engine_acceptance", "version": 0}}, 422),
        ("POST", "/api/patients", {"json": {"externalId": "x" * 256}}, 422),
        ("POST", "/api/patients", {"json": {"externalId": ""}}, 422),
        ("GET", "/api/tasks?limit=0", {}, 422),
        ("GET", "/api/tasks?limit=100000", {}, 422),
        ("POST", f"/api/tasks/{t}/complete", {"json": {"variables": {"painScore": 99}}}, 422),
        ("POST", "/api/clock", {"json": {"set": "2020-01-01T00:00:00Z"}}, 409),  # never back: a conflict
        ("POST", "/api/clock", {"json": {"advance": "-P1D"}}, 422),
        ("POST", "/api/clock", {"json": {"advance": "P6X"}}, 422),
        # missing
        ("POST", "/api/patients", {"json": {}}, 422),
        ("POST", "/api/patients", {}, 422),
        ("POST", f"/api/patients/{p}/pathways", {"json": {"variables": {}}}, 422),
        ("POST", f"/api/pathways/{pw}/migrate", {"json": {"dryRun": True}}, 422),
        ("POST", "/api/clock", {"json": {}}, 422),
        ("POST", f"/api/tasks/{t}/complete", {"json": {"variables": {}}}, 422),
        ("POST", "/api/definitions", {"data": {"deployment-name": "x"}, "content_type": "multipart/form-data"}, 422),
        # unknown fields
        ("POST", "/api/patients", {"json": {"externalId": "X", "nhsNumber": "123"}}, 422),
        ("POST", f"/api/patients/{p}/pathways", {"json": {"definition": "engine_acceptance", "extra": 1}}, 422),
        ("POST", f"/api/tasks/{t}/complete", {"json": {"variables": {}, "comment": "x"}}, 422),
        ("POST", f"/api/tasks/{t}/complete", {"json": {"variables": {"painScore": 2, "colour": "red"}}}, 422),
        ("GET", "/api/tasks?color=red", {}, 422),
        # bad JSON and wrong media types
        ("POST", "/api/patients", {"data": "{not json", "content_type": "application/json"}, 400),
        ("POST", f"/api/tasks/{t}/complete", {"data": '{"variables": ', "content_type": "application/json"}, 400),
        ("POST", f"/api/tasks/{t}/complete", {"data": "painScore=3", "content_type": "text/plain"}, 415),
        ("POST", "/api/patients", {"data": {"externalId": "X"}, "content_type": "multipart/form-data"}, 415),
        ("POST", "/api/definitions", {"json": {"files": []}}, 415),
        ("POST", "/api/patients", {"json": ["externalId"]}, 422),
        # unknown things, wrong methods
        ("POST", "/api/patients/nobody/pathways", {"json": {"definition": "engine_acceptance"}}, 404),
        ("POST", f"/api/patients/{p}/pathways", {"json": {"definition": "nothing-like-it"}}, 404),
        ("POST", f"/api/patients/{p}/pathways", {"json": {"definition": "engine_acceptance", "version": 7}}, 404),
        ("POST", f"/api/pathways/{pw}/messages/NoSuchMessage", {"json": {}}, 409),
        ("POST", "/api/decisions/NoSuchDecision/evaluate", {"json": {"inputs": {}}}, 404),
        ("POST", "/api/tasks/no-such-task/complete", {"json": {"variables": {}}}, 404),
        ("GET", "/api/nowhere", {}, 404),
        ("DELETE", f"/api/tasks/{t}", {}, 405),
        ("PUT", "/api/patients", {"json": {"externalId": "X"}}, 405),
        ("POST", "/api/tasks?cursor=%%%", {}, 405),
        ("GET", "/api/tasks?cursor=bm90LWEtY3Vyc29y", {}, 422),
        # D1: data nested deeper than the engine keeps (saved, it left a pathway nothing could load)
        ("POST", f"/api/patients/{p}/pathways", _raw({"definition": "engine_acceptance", "variables": {
            "painScore": 4, "neuroDeficit": False, "fractureDate": "2026-01-01", "context": _deep(400)}}), 422),
        ("POST", f"/api/pathways/{pw}/messages/RedFlagReported", _raw({"variables": {"note": _deep(40)}}), 422),
        # D5: numbers beyond what the columns hold are refused, not a database error
        ("POST", f"/api/patients/{p}/pathways", {"json": {"definition": "engine_acceptance", "version": 2**40}}, 422),
        ("GET", f"/api/definitions/engine_acceptance/versions/{2**40}", {}, 404),
        ("GET", f"/api/definitions/engine_acceptance/versions/{2**70}/bpmn", {}, 404),
    ]


def _raw(body: Any) -> dict[str, Any]:
    """A JSON body as a client would send it (the test client's own encoder is not the point)."""
    return {"data": json.dumps(body), "content_type": "application/json"}


def _deep(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"inner": value}
    return value


def test_invalid_input_is_a_problem_and_changes_nothing(app: Flask, client: FlaskClient,
                                                        world: dict[str, Any]) -> None:
    before = audit_count(app)
    for method, url, kwargs, status in _cases(world):
        r = client.open(url, method=method, headers=world["lead"] if "definitions" in url or "migrate" in url else world["auth"],
                        **kwargs)
        assert r.status_code == status, (method, url, kwargs, r.status_code, r.get_data(as_text=True)[:300])
        assert r.content_type == "application/problem+json", (method, url)
        body = r.json
        assert body["status"] == status and body["title"] and body["type"], body
        if status == 422 and "errors" in body:
            assert all({"field", "code", "message"} <= set(e) for e in body["errors"])
    assert audit_count(app) == before
    # ...and the task is still there, untouched.
    detail = client.get(f"/api/tasks/{world['task']}", headers=world["auth"]).json
    assert detail["status"] == "ready" and detail["assignee"] is None


def test_a_modeler_start_with_too_deep_data_is_refused_as_camunda_does(app: Flask, client: FlaskClient,
                                                                      world: dict[str, Any]) -> None:
    before = audit_count(app)
    r = client.post("/engine-rest/process-definition/key/engine_acceptance/start", headers=world["auth"], **_raw(
        {"variables": {"painScore": {"value": 4}, "neuroDeficit": {"value": False},
                       "fractureDate": {"value": "2026-01-01"}, "context": {"value": _deep(400), "type": "Json"}}}))
    assert r.status_code == 400 and r.json["type"] == "ProcessEngineException"  # Camunda 7's REST contract
    assert audit_count(app) == before


def test_field_errors_name_the_field(client: FlaskClient, world: dict[str, Any]) -> None:
    r = client.post("/api/patients", json={"externalId": 1, "nhsNumber": "x"}, headers=world["auth"])
    assert {(e["field"], e["code"]) for e in r.json["errors"]} >= {("nhsNumber", "unknown")}
    assert "externalId" in {e["field"] for e in r.json["errors"]}


def test_oversized_body_is_413(db_url: str) -> None:
    app = make_app(db_url, MAX_CONTENT_LENGTH=1024)
    try:
        tokens = issue_tokens(app)
        client = app.test_client()
        before = audit_count(app)
        big = {"big.bpmn": (io.BytesIO(b"<x>" + b" " * 4096 + b"</x>"), "big.bpmn")}
        r = client.post("/api/definitions", data=big, headers=bearer(tokens["admin"]),
                        content_type="multipart/form-data")
        assert r.status_code == 413 and r.content_type == "application/problem+json"
        r = client.post("/api/patients", json={"externalId": "x", "displayName": "y" * 2000},
                        headers=bearer(tokens["admin"]))
        assert r.status_code == 413
        assert audit_count(app) == before
    finally:
        close_app(app)


def test_duplicate_patient_is_409(client: FlaskClient, world: dict[str, Any]) -> None:
    r = client.post("/api/patients", json={"externalId": "MRN-I"}, headers=world["auth"])
    assert r.status_code == 409 and r.content_type == "application/problem+json"
