"""Bulk enrolment from CSV and NDJSON: each row all or nothing, every refusal reported with its
line and reason, and nothing half-enrolled."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from engine.cli import main
from engine.store import AuditEvent, Instance, Patient
from engine.wiring import open_service

pytest_plugins = ["api.testing"]

BUNDLE = Path(__file__).parent / "fixtures" / "bundle"


def counts(service) -> tuple[int, int, int]:  # noqa: ANN001
    with service.ctx.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) for t in (Patient, Instance, AuditEvent))


def test_a_csv_file_enrols_each_good_row_and_reports_each_refused_one(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bulk.db'}")
    service = open_service().service
    service.deploy({p.name: p.read_bytes() for p in BUNDLE.iterdir()}, actor="lead")
    source = tmp_path / "population.csv"
    source.write_text(
        "externalId,displayName,birthDate,painScore,neuroDeficit,fractureDate\n"
        "MRN1,Ada,1950-02-03,4,false,2026-01-01\n"
        "MRN2,Bea,,7,no,2026-01-02\n"
        "MRN3,Cy,1950-13-01,4,false,2026-01-01\n"     # a bad birth date
        "MRN4,Di,,eleven,false,2026-01-01\n"          # pain is not a number
        "MRN1,Ada again,,4,false,2026-01-01\n"        # already enrolled
        ",Nobody,,4,false,2026-01-01\n"               # no identifier
        "MRN5,Ed,,4,false,2026-01-01,extra\n")        # more cells than the header
    before = counts(service)
    refused = tmp_path / "refused.csv"
    result = CliRunner().invoke(main, ["enrol", "--from", str(source), "--definition", "engine_acceptance",
                                       "--refused", str(refused)])
    assert result.exit_code == 1, result.output
    assert "2 of 7 rows enrolled, 5 refused" in result.output
    rows = list(csv.DictReader(refused.open()))
    assert [(r["line"], r["externalId"]) for r in rows] == [("4", "MRN3"), ("5", "MRN4"), ("6", "MRN1"), ("7", ""),
                                                           ("8", "")]
    reasons = {r["externalId"] or r["line"]: r["reason"] for r in rows}
    assert "birthDate" in reasons["MRN3"] and "painScore" in reasons["MRN4"] and "already exists" in reasons["MRN1"]
    after = counts(service)
    assert (after[0] - before[0], after[1] - before[1]) == (2, 2)  # the refused rows left nothing behind
    with service.ctx.read() as session:
        bea = session.scalars(select(Patient).where(Patient.external_id == "MRN2")).one()
        variables = service.pathway(service.pathways_for_patient(bea.id)[0])["variables"]
    assert variables["neuroDeficit"] is False and variables["painScore"] == 7  # typed by the start form


def test_an_ndjson_file_takes_variables_nested_or_flat(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bulk.db'}")
    service = open_service().service
    service.deploy({p.name: p.read_bytes() for p in BUNDLE.iterdir()}, actor="lead")
    source = tmp_path / "population.ndjson"
    start = {"painScore": 4, "neuroDeficit": False, "fractureDate": "2026-01-01"}
    source.write_text("\n".join([
        json.dumps({"externalId": "N1", "variables": start}),
        json.dumps({"externalId": "N2", **start}),
        "{not json",
        json.dumps({"externalId": "N3", "variables": {**start, "neuroDeficit": "perhaps"}}),
    ]) + "\n")
    result = CliRunner().invoke(main, ["enrol", "--from", str(source), "--definition", "engine_acceptance"])
    assert result.exit_code == 1 and "2 of 4 rows enrolled, 2 refused" in result.output, result.output
    assert "line 3 -: not JSON" in result.output and "line 4 N3: neuroDeficit" in result.output
    missing = CliRunner().invoke(main, ["enrol", "--from", str(source), "--definition", "nothing-like-it"])
    assert missing.exit_code == 1 and "definition 'nothing-like-it' not found" in missing.output


def test_the_api_enrols_a_csv_body_and_names_each_refused_row(tmp_path: Path) -> None:
    from api.testkit import audit_count, bearer, bundle_files, close_app, issue_tokens, make_app

    app = make_app(f"sqlite:///{tmp_path / 'api.db'}")
    try:
        tokens = issue_tokens(app)
        client, coordinator = app.test_client(), bearer(tokens["coordinator"])
        assert client.post("/api/definitions", data=bundle_files(), headers=bearer(tokens["clinical_lead"])).status_code == 201
        body = ("externalId,painScore,neuroDeficit,fractureDate\n"
                "A1,3,false,2026-01-01\nA2,thirty,false,2026-01-01\n")
        r = client.post("/api/enrolments?definition=engine_acceptance", data=body, content_type="text/csv",
                        headers=coordinator)
        assert r.status_code == 200, r.json
        assert (r.json["rows"], r.json["enrolled"]) == (2, 1)
        assert r.json["refused"][0]["line"] == 3 and "painScore" in r.json["refused"][0]["reason"]
        assert client.get("/api/patients", query_string={"externalId": "A1"}, headers=coordinator).json["pathways"]
        before = audit_count(app)
        assert client.post("/api/enrolments?definition=engine_acceptance", data="x", content_type="text/plain",
                           headers=coordinator).status_code == 415
        assert client.post("/api/enrolments?definition=nope", data=body, content_type="text/csv",
                           headers=coordinator).status_code == 404
        assert client.post("/api/enrolments?definition=engine_acceptance", data="name\nx\n", content_type="text/csv",
                           headers=coordinator).status_code == 400
        assert audit_count(app) == before
        assert client.post("/api/enrolments?definition=engine_acceptance", data=body, content_type="text/csv",
                           headers=bearer(tokens["api_client"])).status_code == 403
    finally:
        close_app(app)


def test_a_duplicate_in_the_middle_of_a_batch_is_refused_alone_on_both_databases(app, tokens) -> None:  # noqa: ANN001
    """The database's unique identifier refuses the duplicate inside its row's savepoint (no lookup
    first); the rows before and after it are enrolled."""
    from api.testkit import bearer, bundle_files
    from engine.service import Conflict

    client = app.test_client()
    assert client.post("/api/definitions", data=bundle_files(), headers=bearer(tokens["admin"])).status_code == 201
    svc = app.extensions["pathway"]["service"]
    start = {"painScore": 4, "neuroDeficit": False, "fractureDate": "2026-01-01"}
    results = svc.enrol_new_patients([{"external_id": mrn, "variables": dict(start)} for mrn in ("A", "B", "A", "C")],
                                     "engine_acceptance", actor="test")
    assert [type(r) for r in results] == [tuple, tuple, Conflict, tuple]
    assert "already exists" in str(results[2])
    assert sorted(p["externalId"] for p in svc.patients()["items"]) == ["A", "B", "C"]
    assert len(svc.tasks(limit=50)["items"]) == 3
