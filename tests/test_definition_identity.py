"""Versions by meaning (issue 11): what an editor changes in how a file is written is not a new
version; what it changes in what the file means is."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.testkit import BUNDLE, bearer
from engine.models.canonical import canonical_hash

pytest_plugins = ["api.testing"]

ROOT = Path(__file__).resolve().parents[1]
BPMN_NAME, DMN_NAME = "ovcf_pathway.bpmn", "ovcf_pathway.dmn"
BPMN = (ROOT / "pathways" / BPMN_NAME).read_text()
DMN = (ROOT / "dmn" / DMN_NAME).read_text()


def _same(name: str, before: str, after: str) -> bool:
    return canonical_hash({name: before}) == canonical_hash({name: after})


def _rewritten_as_an_editor_would(text: str) -> str:
    """What an unedited open-and-save in the Modeler does to a file's text."""
    text = re.sub(r">([^<]*)<", lambda m: ">" + m.group(1).replace("&gt;", ">").replace('"', "&#34;") + "<",
                  text)  # entities re-encoded in text
    text = text.replace('cancelActivity="true" ', "")  # defaults left out
    text = text.replace(' camunda:mapDecisionResult="resultList"', "")
    text = text.replace(' hitPolicy="UNIQUE"', "")
    text = re.sub(r'exporterVersion="[^"]*"', 'exporterVersion="5.99.0"', text)  # editor metadata
    text = re.sub(r'(<dc:Bounds) (x="[^"]*") (y="[^"]*")', r"\1 \3 \2", text)  # attribute order
    text = re.sub(r'<dc:Bounds ([^/]*)x="(\d+)', lambda m: f'<dc:Bounds {m.group(1)}x="{int(m.group(2)) + 10}', text)
    declaration, _, rest = text.partition("\n")
    return declaration + "\n<!-- saved again -->\n" + rest.replace("\n    ", "\n  ")  # indentation, a comment


def _move_di_first(text: str) -> str:
    """Diagram interchange written before the process (the editor decides the order)."""
    start, end = text.index("<bpmndi:BPMNDiagram"), text.index("</bpmndi:BPMNDiagram>") + len("</bpmndi:BPMNDiagram>")
    di = text[start:end]
    text = text[:start] + text[end:]
    first = text.index("<bpmn:process")
    return text[:first] + di + "\n" + text[first:]


def _swap_prefix(text: str) -> str:
    """``bpmn:`` written as ``semantic:`` (a prefix is the writer's choice)."""
    return text.replace("xmlns:bpmn=", "xmlns:semantic=").replace("<bpmn:", "<semantic:").replace(
        "</bpmn:", "</semantic:").replace('"bpmn:tFormalExpression"', '"semantic:tFormalExpression"')


def test_an_unedited_save_means_the_same() -> None:
    assert _same(BPMN_NAME, BPMN, _rewritten_as_an_editor_would(BPMN))
    assert _same(BPMN_NAME, BPMN, _move_di_first(BPMN))
    assert _same(BPMN_NAME, BPMN, _swap_prefix(BPMN))
    assert _same(DMN_NAME, DMN, _rewritten_as_an_editor_would(DMN))


def test_flow_elements_in_another_order_mean_the_same_but_rules_in_another_order_do_not() -> None:
    tasks = re.findall(r"    <bpmn:userTask .*?</bpmn:userTask>\n", BPMN, flags=re.S)
    assert len(tasks) >= 2
    swapped = BPMN.replace(tasks[0], "\x00").replace(tasks[1], tasks[0]).replace("\x00", tasks[1])
    assert swapped != BPMN and _same(BPMN_NAME, BPMN, swapped)
    rules = re.findall(r"      <rule id=.*?</rule>\n", DMN, flags=re.S)
    assert len(rules) >= 2
    reordered = DMN.replace(rules[0], "\x00").replace(rules[1], rules[0]).replace("\x00", rules[1])
    assert not _same(DMN_NAME, DMN, reordered)  # FIRST / RULE ORDER depend on the order


@pytest.mark.parametrize("change", [
    ("P12W", "P13W"),  # a timer or an interval
    ('cancelActivity="false"', 'cancelActivity="true"'),  # an escalation that now interrupts
    ('name="Overdue"', 'name="Late"'),  # a label a clinician reads
])
def test_a_change_of_meaning_is_a_new_identity(change: tuple[str, str]) -> None:
    old, new = change
    text = BPMN if old in BPMN else DMN
    assert old in text
    assert not _same(BPMN_NAME, text, text.replace(old, new, 1))


def test_a_default_written_out_differs_from_a_value_that_is_not_the_default() -> None:
    task = '<bpmn:boundaryEvent id="BE_UT1_Intake_Overdue" name="Overdue" cancelActivity="false"'
    assert task in BPMN
    assert not _same(BPMN_NAME, BPMN, BPMN.replace(task, task.replace(' cancelActivity="false"', "")))


ACCEPTANCE = (BUNDLE / "engine_acceptance.bpmn").read_text()
TRIAGE = (BUNDLE / "triage.dmn").read_text()


def _modeler_deploy(client: FlaskClient, token: str, bpmn: str, **flags: str) -> dict[str, Any]:
    """One diagram, as the Modeler's Deploy button sends it."""
    form = {"deployment-name": "engine_acceptance.bpmn", "deployment-source": "Camunda Modeler", **flags,
            "engine_acceptance.bpmn": (io.BytesIO(bpmn.encode()), "engine_acceptance.bpmn")}
    r = client.post("/engine-rest/deployment/create", data=form, headers=basic("clinical_lead-user", token),
                    content_type="multipart/form-data")
    assert r.status_code == 200, r.json
    return r.json


def test_the_modeler_saving_an_unedited_file_deploys_nothing(client: FlaskClient, tokens: dict[str, str]) -> None:
    lead = tokens["clinical_lead"]
    first = _deploy_bundle(client, lead, ACCEPTANCE)
    assert (first["version"], first["created"]) == (1, True)
    first_deployment = _modeler_deploy(client, lead, ACCEPTANCE.replace("x", "x"), **{"deploy-changed-only": "true"})
    # deploy-changed-only alone implies duplicate filtering: the existing deployment, nothing deployed
    assert first_deployment["deployedProcessDefinitions"] is None
    resaved = _rewritten_as_an_editor_would(ACCEPTANCE)
    assert resaved != ACCEPTANCE
    again = _modeler_deploy(client, lead, resaved, **{"deploy-changed-only": "true"})
    assert again["deployedProcessDefinitions"] is None and again["id"] == first_deployment["id"]
    versions = client.get("/api/definitions", headers=bearer(lead)).json["items"]
    assert [v["version"] for v in versions if v["key"] == "engine_acceptance"] == [1]

    # a real change through the Modeler: a new version carrying the deployment's name and source
    changed = resaved.replace('name="3-month reassessment"', 'name="3-month review"')
    made = _modeler_deploy(client, lead, changed, **{"deploy-changed-only": "true"})
    [(definition_id, definition)] = made["deployedProcessDefinitions"].items()
    assert definition["version"] == 2 and made["name"] == "engine_acceptance.bpmn"
    assert made["source"] == "Camunda Modeler"
    listed = client.get("/engine-rest/deployment", headers=basic("clinical_lead-user", lead)).json
    assert [(d["name"], d["source"], d["id"]) for d in listed][:2] == [
        ("engine_acceptance.bpmn", "Camunda Modeler", made["id"]), ("Engine acceptance", None, first_deployment["id"])]
    assert all(d["deploymentTime"] for d in listed)

    # back to the first content after a change: version 3 (what was deployed last is what runs)
    back = _modeler_deploy(client, lead, ACCEPTANCE, **{"enable-duplicate-filtering": "true"})
    assert [d["version"] for d in back["deployedProcessDefinitions"].values()] == [3]


def _deploy_bundle(client: FlaskClient, token: str, bpmn: str) -> dict[str, Any]:
    data = {"f1": (io.BytesIO(bpmn.encode()), "engine_acceptance.bpmn"),
            "f2": (io.BytesIO(TRIAGE.encode()), "triage.dmn")}
    r = client.post("/api/definitions", data=data, headers=bearer(token), content_type="multipart/form-data")
    assert r.status_code in (200, 201), r.json
    return r.json


def basic(name: str, token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{token}".encode()).decode()}


def test_versions_stored_before_are_rehashed_by_meaning(db_url: str) -> None:
    """Migration 0007: a definition stored with the old byte hash gets its canonical hash, so the
    first deploy after the upgrade of the same files (saved again by an editor) is no new version."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from engine.store import make_engine, upgrade
    from engine.store.db import MIGRATIONS_DIR

    eng = make_engine(db_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["configure_logger"] = False
    sources = {"engine_acceptance.bpmn": ACCEPTANCE, "triage.dmn": TRIAGE}
    try:
        with eng.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0006")
        with eng.begin() as conn:
            conn.execute(text("INSERT INTO definitions (key, version, sha256, name, spec_json, sources, created_at) "
                              "VALUES ('engine_acceptance', 1, :h, 'old', '{}', :s, '2026-01-01 00:00:00')"),
                         {"h": "0" * 64, "s": json.dumps(sources)})
        upgrade(eng)
        with eng.connect() as conn:
            stored = conn.execute(text("SELECT sha256 FROM definitions")).scalar()
    finally:
        eng.dispose()
    resaved = {**sources, "engine_acceptance.bpmn": _rewritten_as_an_editor_would(ACCEPTANCE)}
    assert stored == canonical_hash(sources) == canonical_hash(resaved)
