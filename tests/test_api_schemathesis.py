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
from schemathesis.checks import not_a_server_error

from api.testkit import bearer, bundle_files, close_app, issue_tokens, make_app

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))


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
            case.call_and_validate(headers=bearer(tokens["admin"]), checks=[not_a_server_error])

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc).splitlines()[0:6]}")
    assert operations >= 20
    assert not failures, "\n".join(failures)


def test_document_is_openapi_31(fuzz_app: tuple[Flask, dict[str, str]]) -> None:
    app, _tokens = fuzz_app
    doc = app.test_client().get("/api/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    assert {"/api/tasks", "/api/clock", "/engine-rest/deployment/create"} <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert doc["paths"]["/api/health"]["get"]["security"] == []
    assert "Roles: admin, clinical_lead" in doc["paths"]["/api/definitions"]["post"]["description"]
