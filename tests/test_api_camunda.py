"""Camunda Modeler's Deploy and Start buttons (Camunda 7 REST subset under /engine-rest)."""

from __future__ import annotations

import base64
import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from api.testkit import BUNDLE, audit_count, bearer

pytest_plugins = ["api.testing"]

BPMN = (BUNDLE / "engine_acceptance.bpmn").read_text()
DMN = (BUNDLE / "triage.dmn").read_text()
BROKEN = BPMN.replace('camunda:decisionRef="Triage"', 'camunda:decisionRef="NoSuchDecision"').replace(
    '${urgency = "urgent"}', '${urgency === }')


def modeler_form(bpmn: str, dmn: str = DMN, **fields: str) -> dict[str, Any]:
    """The multipart body Camunda Modeler 5 sends from its Deploy dialog."""
    form: dict[str, Any] = {
        "deployment-name": "OVCF pathway",
        "deployment-source": "Camunda Modeler",
        "enable-duplicate-filtering": "true",
        "deploy-changed-only": "true",
        "engine_acceptance.bpmn": (io.BytesIO(bpmn.encode()), "engine_acceptance.bpmn"),
        "triage.dmn": (io.BytesIO(dmn.encode()), "triage.dmn"),
    }
    form.update(fields)
    return form


def basic(name: str, token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{token}".encode()).decode()}


def test_connection_check(client: FlaskClient, tokens: dict[str, str]) -> None:
    auth = basic("clinical_lead-user", tokens["clinical_lead"])
    assert client.get("/engine-rest/version", headers=auth).json["version"].startswith("7.")
    r = client.get("/engine-rest/deployment?maxResults=0", headers=auth)
    assert r.status_code == 200 and r.json == []
    r = client.get("/engine-rest/version")
    assert r.status_code == 401 and r.json["type"] == "AuthenticationException" and r.json["message"]


def test_modeler_deploy_good_identical_broken(app: Flask, client: FlaskClient, tokens: dict[str, str]) -> None:
    auth = basic("clinical_lead-user", tokens["clinical_lead"])
    r = client.post("/engine-rest/deployment/create", data=modeler_form(BPMN), headers=auth,
                    content_type="multipart/form-data")
    assert r.status_code == 200, r.json
    body = r.json
    assert body["name"] == "OVCF pathway" and body["source"] == "Camunda Modeler" and body["id"]
    [(def_id, definition)] = body["deployedProcessDefinitions"].items()
    assert definition["id"] == def_id and definition["key"] == "engine_acceptance" and definition["version"] == 1

    # Identical content: nothing new is deployed.
    r = client.post("/engine-rest/deployment/create", data=modeler_form(BPMN), headers=auth,
                    content_type="multipart/form-data")
    assert r.status_code == 200 and not r.json["deployedProcessDefinitions"]
    assert len(client.get("/api/definitions", headers=auth).json["items"]) == 1

    # A changed model is a new version.
    changed = BPMN.replace('name="Triage"', 'name="Triage (v2)"')
    r = client.post("/engine-rest/deployment/create", data=modeler_form(changed), headers=bearer(tokens["admin"]),
                    content_type="multipart/form-data")
    assert [d["version"] for d in r.json["deployedProcessDefinitions"].values()] == [2]

    # A broken model: 400 ENGINE-09005 naming the elements, and nothing deployed.
    before = audit_count(app)
    r = client.post("/engine-rest/deployment/create", data=modeler_form(BROKEN), headers=auth,
                    content_type="multipart/form-data")
    assert r.status_code == 400
    assert r.json["type"] == "ParseException"
    assert r.json["message"].startswith("ENGINE-09005 Could not parse BPMN process.")
    assert "Activity_triage" in r.json["message"] and "Flow_urgent" in r.json["message"]
    errors = r.json["details"]["engine_acceptance.bpmn"]["errors"]
    assert {e["mainElementId"] for e in errors} == {"Activity_triage", "Flow_urgent"}
    assert audit_count(app) == before
    assert len(client.get("/api/definitions", headers=auth).json["items"]) == 2
    # The same broken model through our own API: 422 with the problems listed.
    r = client.post("/api/definitions", data={"f": (io.BytesIO(BROKEN.encode()), "x.bpmn"),
                                              "g": (io.BytesIO(DMN.encode()), "triage.dmn")}, headers=auth)
    assert r.status_code == 422 and {p["element"] for p in r.json["problems"]} == {"Activity_triage", "Flow_urgent"}


def test_modeler_start_with_typed_variables(client: FlaskClient, tokens: dict[str, str]) -> None:
    lead = basic("clinical_lead-user", tokens["clinical_lead"])
    deployed = client.post("/engine-rest/deployment/create", data=modeler_form(BPMN), headers=lead,
                           content_type="multipart/form-data").json
    [def_id] = deployed["deployedProcessDefinitions"]
    variables = {
        "painScore": {"value": 4, "type": "Integer"},
        "neuroDeficit": {"value": "false", "type": "Boolean"},
        "fractureDate": {"value": "2026-01-01T00:00:00.000+0000", "type": "Date"},
        "notes": {"value": '{"side": "left"}', "type": "Json"},
    }
    r = client.post(f"/engine-rest/process-definition/{def_id}/start",
                    json={"businessKey": "demo-1", "variables": variables}, headers=lead)
    assert r.status_code == 200, r.json
    assert r.json["definitionId"] == def_id and r.json["businessKey"] == "demo-1" and r.json["ended"] is False
    state = client.get(f"/api/pathways/{r.json['id']}", headers=lead).json
    assert state["variables"]["neuroDeficit"] is False and state["variables"]["notes"] == {"side": "left"}
    assert state["variables"]["fractureDate"] == "2026-01-01" and state["businessKey"] == "demo-1"
    [task] = client.get("/api/tasks", query_string={"pathwayId": r.json["id"]}, headers=lead).json["items"]
    assert task["due"] == "2026-01-29T00:00:00+00:00"

    r = client.post("/engine-rest/process-definition/key/engine_acceptance/start",
                    json={"variables": {"painScore": {"value": 9, "type": "Long"},
                                        "neuroDeficit": {"value": False, "type": "Boolean"},
                                        "fractureDate": {"value": "2026-01-02", "type": "String"}}},
                    headers=bearer(tokens["coordinator"]))
    assert r.status_code == 200
    assert client.get(f"/api/pathways/{r.json['id']}", headers=lead).json["variables"]["urgency"] == "urgent"

    bad = client.post("/engine-rest/process-definition/key/engine_acceptance/start",
                      json={"variables": {"painScore": {"value": "lots", "type": "Integer"}}}, headers=lead)
    assert bad.status_code == 400 and bad.json["type"] == "InvalidRequestException"
    # shaped like a date, but there is no 30 February: a 400 naming the variable, not a 500
    no_day = client.post("/engine-rest/process-definition/key/engine_acceptance/start",
                         json={"variables": {"fractureDate": {"value": "2026-02-30", "type": "Date"}}}, headers=lead)
    assert no_day.status_code == 400 and "fractureDate" in no_day.json["message"]
    missing = client.post("/engine-rest/process-definition/key/nothing/start", json={}, headers=lead)
    assert missing.status_code == 404 and missing.json["message"]
    assert client.post("/engine-rest/process-definition/zzz/start", json={}, headers=lead).status_code == 404


def test_modeler_deploys_one_diagram_at_a_time(client: FlaskClient, tokens: dict[str, str]) -> None:
    auth = basic("clinical_lead-user", tokens["clinical_lead"])

    def deploy(**files: str) -> Any:
        form: dict[str, Any] = {"deployment-name": "one file", "deployment-source": "Camunda Modeler",
                                "enable-duplicate-filtering": "true", "deploy-changed-only": "true"}
        form.update({name: (io.BytesIO(text.encode()), name) for name, text in files.items()})
        return client.post("/engine-rest/deployment/create", data=form, headers=auth, content_type="multipart/form-data")

    lonely = deploy(**{"triage.dmn": DMN})
    assert lonely.status_code == 400 and "no BPMN file" in lonely.json["message"]
    assert deploy(**{"engine_acceptance.bpmn": BPMN, "triage.dmn": DMN}).status_code == 200
    # A changed decision table alone: a new version of the pathway that uses it, BPMN kept.
    r = deploy(**{"triage.dmn": DMN.replace("&gt;= 8", "&gt;= 7")})
    assert r.status_code == 200
    [(def_id, definition)] = r.json["deployedProcessDefinitions"].items()
    assert definition["version"] == 2
    files = client.get("/api/definitions/engine_acceptance/versions/2", headers=auth).json["files"]
    assert files == ["engine_acceptance.bpmn", "triage.dmn"]
    evaluated = client.post("/api/decisions/Triage/evaluate", json={"inputs": {"painScore": 7, "neuroDeficit": False}},
                            headers=auth).json
    assert (evaluated["result"], evaluated["definition"]["version"]) == ("urgent", 2)
    # The diagram alone: version 3 keeps the new table; the same diagram again is no new version.
    changed = BPMN.replace('name="Urgent review"', 'name="Urgent spinal review"')
    assert list(deploy(**{"engine_acceptance.bpmn": changed}).json["deployedProcessDefinitions"].values())[0][
        "version"] == 3
    assert deploy(**{"engine_acceptance.bpmn": changed}).json["deployedProcessDefinitions"] is None
    xml = client.get("/api/definitions/engine_acceptance/versions/3/bpmn", headers=auth).get_data(as_text=True)
    assert "Urgent spinal review" in xml


def test_modeler_attachments_and_renamed_diagrams(client: FlaskClient, tokens: dict[str, str]) -> None:
    auth = basic("clinical_lead-user", tokens["clinical_lead"])
    form = modeler_form(BPMN)
    form["intake.form"] = (io.BytesIO(b'{"components": []}'), "intake.form")
    r = client.post("/engine-rest/deployment/create", data=form, headers=auth, content_type="multipart/form-data")
    assert r.status_code == 200, r.json  # the form attachment is not part of the bundle
    assert client.get("/api/definitions/engine_acceptance/versions/1", headers=auth).json["files"] == [
        "engine_acceptance.bpmn", "triage.dmn"]
    # The same process saved under another file name replaces the old file in the new version.
    renamed = BPMN.replace('name="Urgent review"', 'name="Urgent review (renamed file)"')
    data = {"deployment-name": "renamed", "diagram_2.bpmn": (io.BytesIO(renamed.encode()), "diagram_2.bpmn")}
    r = client.post("/engine-rest/deployment/create", data=data, headers=auth, content_type="multipart/form-data")
    assert r.status_code == 200, r.json
    assert client.get("/api/definitions/engine_acceptance/versions/2", headers=auth).json["files"] == [
        "diagram_2.bpmn", "triage.dmn"]
    only_forms = {"x.form": (io.BytesIO(b"{}"), "x.form")}
    r = client.post("/engine-rest/deployment/create", data=only_forms, headers=auth, content_type="multipart/form-data")
    assert r.status_code == 400 and r.json["type"] == "ParseException"
