"""Property-based run of schemathesis against /api/openapi.json: no input may cause a server error.

Bounded (``SCHEMATHESIS_MAX_EXAMPLES``, default 25 per operation) so it fits in CI; it runs as an
admin (every route open to it) against a database that holds a deployed bundle and a patient.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    status_code_conformance,
)

from api.testkit import bearer, bundle_files, close_app, issue_tokens, make_app

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, positive_data_acceptance]
# Where a schema cannot say what is valid, a schema-valid request may still be refused (with its
# reason): an uploaded file's content (must be BPMN/DMN that lints clean), rows of patients (a CSV
# needs its header) and an opaque page
# cursor (only one this API issued). Those requests get every check but "valid data accepted";
# test_a_forged_cursor_is_refused_and_an_issued_one_accepted covers the cursor.
CONTENT_BEYOND_SCHEMA = {("POST", "/api/definitions"), ("POST", "/engine-rest/deployment/create"),
                         ("POST", "/api/enrolments")}
OPAQUE = {("GET", "/api/tasks"): "cursor"}


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, dict[str, str]]]:
    app = make_app(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    tokens = issue_tokens(app)
    client = app.test_client()
    admin = bearer(tokens["admin"])
    assert client.post("/api/definitions", data=bundle_files(), headers=admin).status_code == 201
    patient = client.post("/api/patients", json={"externalId": "FUZZ-1"}, headers=admin).json["id"]
    client.post(f"/api/patients/{patient}/pathways", headers=admin, json={
        "definition": "engine_acceptance", "variables": {"painScore": 3, "neuroDeficit": False,
                                                         "fractureDate": "2026-01-01"}})
    try:
        yield app, tokens
    finally:
        close_app(app)


def test_no_server_errors(fuzz_app: tuple[Flask, dict[str, str]]) -> None:
    """Every operation, ``MAX_EXAMPLES`` generated requests each (schemathesis' pytest plugin does
    not run under pytest 9 yet, so the operations are driven with hypothesis directly)."""
    app, tokens = fuzz_app
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            key = (case.method.upper(), case.path)
            checks = CHECKS
            if key in CONTENT_BEYOND_SCHEMA or (key in OPAQUE and OPAQUE[key] in (case.query or {})):
                checks = [c for c in CHECKS if c is not positive_data_acceptance]
            case.call_and_validate(headers=bearer(tokens["admin"]), checks=checks)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, then report all
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc).splitlines()[0:12]}")
    assert operations >= 20
    assert not failures, "\n".join(failures)


def test_a_forged_cursor_is_refused_and_an_issued_one_accepted(fuzz_app: tuple[Flask, dict[str, str]]) -> None:
    app, tokens = fuzz_app
    client, admin = app.test_client(), bearer(tokens["admin"])
    issued = client.get("/api/tasks", query_string={"limit": 1, "status": "any"}, headers=admin).json["nextCursor"]
    assert issued and client.get("/api/tasks", query_string={"cursor": issued}, headers=admin).status_code == 200
    forged = client.get("/api/tasks", query_string={"cursor": "patient_pages"}, headers=admin)
    assert forged.status_code == 422 and "invalid cursor" in forged.json["detail"]


def test_document_is_openapi_31(fuzz_app: tuple[Flask, dict[str, str]]) -> None:
    app, _tokens = fuzz_app
    doc = app.test_client().get("/api/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    assert {"/api/tasks", "/api/clock", "/engine-rest/deployment/create"} <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert doc["paths"]["/api/health"]["get"]["security"] == []
    assert "Roles: admin, clinical_lead" in doc["paths"]["/api/definitions"]["post"]["description"]


def test_every_operation_documents_its_success_and_a_json_body_its_400_and_415(
        fuzz_app: tuple[Flask, dict[str, str]]) -> None:
    app, _tokens = fuzz_app
    doc = app.test_client().get("/api/openapi.json").json
    missing = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            codes = set(operation.get("responses", {}))
            if not any(code.startswith("2") for code in codes):
                missing.append(f"{method.upper()} {path}: no 2xx")
            if "application/json" in operation.get("requestBody", {}).get("content", {}) and not {"400", "415"} <= codes:
                missing.append(f"{method.upper()} {path}: JSON body without 400/415")
    assert not missing, missing
    clock = doc["components"]["schemas"]
    body = next(v for k, v in clock.items() if k.split(".")[0] == "ClockIn")
    assert body["oneOf"] == [{"required": ["advance"]}, {"required": ["set"]}]
