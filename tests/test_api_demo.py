"""``pathway serve --demo`` set-up, and logs that never carry patient identifiers."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from api.demo import HISTORY, bundled_files, sample_answer, seed_demo
from api.logs import JsonFormatter
from api.serve import build
from api.testkit import BUNDLE, START, bearer, close_app, make_app


def test_demo_enrols_patients_at_different_stages(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'demo.db'}", SIMULATED_CLOCK_START=(START - HISTORY).isoformat())
    try:
        service = app.extensions["pathway"]["service"]
        files = {p.name: p.read_bytes() for p in BUNDLE.iterdir()}
        result = seed_demo(service, files, until=START)
        assert set(result.tokens) == {"admin", "api_client", "clinical_lead", "coordinator"}
        assert result.definition and result.definition["version"] == 1 and not result.problems
        assert len(result.pathways) == 5 and service.clock.now() == START
        client = app.test_client()
        stages = set()
        for pathway in result.pathways:
            state = client.get(f"/api/pathways/{pathway}", headers=bearer(result.tokens["api_client"])).json
            stages.add(tuple(state["activeElements"]))
        assert len(stages) >= 3, stages  # e.g. waiting for 3 months, chased, fresh reassessment
        work = client.get("/api/tasks", headers=bearer(result.tokens["clinical_lead"])).json["items"]
        assert len({t["elementId"] for t in work}) >= 2, work
        done = client.get("/api/tasks", query_string={"status": "completed"},
                          headers=bearer(result.tokens["coordinator"])).json["items"]
        assert {t["completedBy"] for t in done} == {"demo-coordinator"}
    finally:
        close_app(app)


def test_demo_without_a_bundled_pathway_still_makes_tokens(tmp_path: Path) -> None:
    (tmp_path / "pathways").mkdir()
    assert bundled_files(tmp_path) == {}
    app = make_app(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        result = seed_demo(app.extensions["pathway"]["service"], {})
        assert len(result.tokens) == 4 and result.definition is None and result.pathways == []
        r = app.test_client().get("/api/tasks", headers=bearer(result.tokens["admin"]))
        assert r.status_code == 200
    finally:
        close_app(app)


def test_serve_demo_keeps_its_database_and_tokens_and_shares_them_with_the_users_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from engine.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app, seeded = build(demo=True, simulated_clock=False)
    try:
        assert app.config["SIMULATED_CLOCK"] is True and len(seeded["tokens"]) == 4 and not seeded["reused"]
        assert seeded["database"].endswith("instance/pathway.db")
        clock = app.test_client().get("/api/clock", headers=bearer(seeded["tokens"]["api_client"])).json
        assert clock["simulated"] is True
        first_now = clock["now"]
    finally:
        close_app(app)
    tokens_file = tmp_path / "instance" / "pathway.demo-tokens.json"
    assert oct(tokens_file.stat().st_mode & 0o777) == "0o600"

    # a restart serves the same demo: same patients, the same tokens still work, time goes on
    app, again = build(demo=True, simulated_clock=False)
    try:
        assert again["reused"] and again["tokens"] == seeded["tokens"] and again["pathways"] == 5
        client = app.test_client()
        assert client.get("/api/clock", headers=bearer(seeded["tokens"]["coordinator"])).json["now"] >= first_now

        # `pathway users` acts on the database the server uses (one default for both)
        runner = CliRunner()
        added = runner.invoke(main, ["users", "add", "nurse-ann", "--role", "coordinator"])
        assert added.exit_code == 0, added.output
        token = added.output.strip()
        assert client.get("/api/tasks", headers=bearer(token)).status_code == 200
        listed = runner.invoke(main, ["users", "list"])
        assert "nurse-ann" in listed.output and "demo-coordinator" in listed.output and token not in listed.output
        token_id = next(line.split()[0] for line in listed.output.splitlines() if "nurse-ann" in line)
        assert runner.invoke(main, ["users", "revoke", token_id]).exit_code == 0
        assert client.get("/api/tasks", headers=bearer(token)).status_code == 401
        assert runner.invoke(main, ["users", "revoke", token_id]).exit_code == 1  # already revoked
    finally:
        close_app(app)

    app, fresh = build(demo=True, simulated_clock=False, fresh=True)
    try:
        assert not fresh["reused"] and fresh["tokens"] != seeded["tokens"]
        assert app.test_client().get("/api/tasks", headers=bearer(seeded["tokens"]["coordinator"])).status_code == 401
    finally:
        close_app(app)


def test_sample_answers_satisfy_the_form() -> None:
    form = {"fields": [
        {"id": "pain", "type": "long", "constraints": {"required": None, "min": "2"}},
        {"id": "mobility", "type": "enum", "options": [{"id": "a"}, {"id": "b"}], "constraints": {"required": None}},
        {"id": "note", "type": "string", "constraints": {}},
    ]}
    assert sample_answer(form, START.date()) == {"pain": 2, "mobility": "a"}


def test_request_logs_carry_no_patient_identifiers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'logs.db'}")
    try:
        result = seed_demo(app.extensions["pathway"]["service"], {})
        client = app.test_client()
        auth = bearer(result.tokens["coordinator"])
        with caplog.at_level(logging.INFO):
            patient = client.post("/api/patients", json={"externalId": "MRN-SECRET-77", "displayName": "Ada Lovelace"},
                                  headers=auth).json["id"]
            client.get(f"/api/pathways/{patient}", headers=auth)
            client.post(f"/api/patients/{patient}/pathways", json={"definition": "none"}, headers=auth)
        lines = [JsonFormatter().format(r) for r in caplog.records]
        requests = [json.loads(line) for line in lines if '"event": "request"' in line]
        assert {r["route"] for r in requests} >= {"/api/patients", "/api/pathways/<pathway_id>"}
        assert requests[0]["status"] == 201 and requests[0]["role"] == "coordinator"
        text = "\n".join(lines)
        for secret in ("MRN-SECRET-77", "Ada Lovelace", patient):
            assert secret not in text
    finally:
        close_app(app)
    assert timedelta(weeks=16) == HISTORY


def test_error_logs_name_the_type_and_place_not_the_message() -> None:
    try:
        raise ValueError("patient MRN-SECRET-88 has a bad value")
    except ValueError:
        import sys

        record = logging.LogRecord("api", logging.ERROR, __file__, 1, "unhandled error", None, sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["error"] == "ValueError" and entry["where"][-1].startswith("test_api_demo.py:")
    assert "MRN-SECRET-88" not in json.dumps(entry)
