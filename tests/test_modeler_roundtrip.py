"""Acceptance of versions by meaning (issue 11) against the Camunda Modeler's own editors: the
Camunda Platform 7 flavours of camunda-bpmn-js and camunda-dmn-js, in Chromium
(``tests/modeler_editor.py``, ``tools/modeler-roundtrip``).

A. Every shipped model file opened and saved with no edit, then deployed one file at a time onto
   the original bundle exactly as the Modeler's Deploy button sends it (``deploy-changed-only``):
   no new version.
B. Three real edits on the main pathway through the editors' modeling APIs (a DMN threshold, a
   timer, a user task dropped on a sequence flow), deployed together (the Modeler's "include
   additional files"): version 2.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from flask.testing import FlaskClient
from lxml import etree

from api.testkit import bearer
from engine.models.bundle import collect_files
from engine.models.canonical import canonical_form
from tests.modeler_editor import ModelerEditor

pytest_plugins = ["api.testing"]

ROOT = Path(__file__).resolve().parents[1]
MODEL_FILES = [*sorted((ROOT / "pathways").glob("*.bpmn")), *sorted((ROOT / "pathways").glob("*.dmn")),
               *sorted((ROOT / "dmn").glob("*.dmn"))]
BPMN_NAME, DMN_NAME = "ovcf_pathway.bpmn", "ovcf_pathway.dmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI", "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"


class CellEdit(NamedTuple):
    decision: str
    rule: str
    column: int  # 0-based input column
    before: str
    after: str


class TimerEdit(NamedTuple):
    element: str
    before: str
    after: str


class TaskInsert(NamedTuple):
    task: str
    name: str
    flow: str  # the flow it is dropped on: it keeps its id and now ends at the task
    source: str
    target: str
    candidate_groups: str


# (1) DT2 rule 3: osteoporosis by BMD at T <= -2.5 → <= -2.4 (FIRST hit policy: rule 4's
# (-2.5..-1.0) still follows, so the table stays complete)
THRESHOLD = CellEdit("OsteoporosisDiagnosis", "DT2_R3", 2, "<= -2.5", "<= -2.4")
# (2) the urgent red-flag assessment's overdue timer: PT1H → PT45M (stricter, not looser)
TIMER = TimerEdit("BE_RedFlagOverdue", "PT1H", "PT45M")
# (3) a clinician check between triage and the conservative phase; it lands in the Clinician lane,
# so its candidate group is the lane's (as every task's is). Deploying needs nothing more: the
# overdue-escalation rule is the verifier's (`pathway verify`), not a deploy check.
ADDED_TASK = TaskInsert("UT_Added_Check", "Confirm conservative care", "Flow_GX_Triage_GM_Conservative",
                        "GX_Triage", "GM_Conservative", "clinician")


class Resaved(NamedTuple):
    original: str
    saved: str


@dataclass(frozen=True)
class ThreeEdits:
    """The main pathway's files after the three edits, as the editors saved them."""

    dmn: str  # edit 1
    bpmn_timer: str  # edit 2 only
    bpmn: str  # edits 2 and 3

    def files(self) -> dict[str, str]:
        return {BPMN_NAME: self.bpmn, DMN_NAME: self.dmn}


@pytest.fixture(scope="module")
def editor() -> Iterator[ModelerEditor]:
    with ModelerEditor() as opened:
        yield opened


@pytest.fixture(scope="module")
def resaved(editor: ModelerEditor) -> dict[str, Resaved]:
    """Every shipped model file opened and saved with no edit (once per module: the API tests
    below run once per database)."""
    files: dict[str, Resaved] = {}
    for path in MODEL_FILES:
        original = path.read_text(encoding="utf-8")
        saved = editor.resave(path.name, original)
        assert editor.warnings == [], f"{path.name}: the editor did not understand all of it: {editor.warnings}"
        files[path.name] = Resaved(original, saved)
    return files


def make_three_edits(editor: ModelerEditor) -> ThreeEdits:
    """The three edits of test B, each through the editors' modeling API."""
    dmn = (ROOT / "dmn" / DMN_NAME).read_text(encoding="utf-8")
    bpmn = (ROOT / "pathways" / BPMN_NAME).read_text(encoding="utf-8")
    assert cell_text(dmn, THRESHOLD) == THRESHOLD.before and timer_body(bpmn, TIMER.element) == TIMER.before
    edited_dmn = editor.set_dmn_cell(dmn, THRESHOLD.decision, THRESHOLD.rule, THRESHOLD.column, THRESHOLD.after)
    with_timer = editor.set_timer(bpmn, TIMER.element, TIMER.after)
    with_task = editor.insert_user_task_on_flow(with_timer, ADDED_TASK.flow, ADDED_TASK.task, ADDED_TASK.name,
                                                {"camunda:candidateGroups": ADDED_TASK.candidate_groups})
    return ThreeEdits(dmn=edited_dmn, bpmn_timer=with_timer, bpmn=with_task)


@pytest.fixture(scope="module")
def three_edits(editor: ModelerEditor) -> ThreeEdits:
    return make_three_edits(editor)


# ---- reading the saved XML ------------------------------------------------------------------

def _tree(text: str) -> Any:
    return etree.fromstring(text.encode("utf-8"))


def cell_text(dmn: str, edit: CellEdit) -> str:
    [rule] = _tree(dmn).xpath(f"//dmn:decision[@id='{edit.decision}']//dmn:rule[@id='{edit.rule}']", namespaces=NS)
    return str(rule.findall("dmn:inputEntry", NS)[edit.column].findtext("dmn:text", namespaces=NS))


def timer_body(bpmn: str, element: str) -> str:
    [body] = _tree(bpmn).xpath(f"//*[@id='{element}']/bpmn:timerEventDefinition/*", namespaces=NS)
    return str(body.text)


# ---- the API -----------------------------------------------------------------------------------

def basic(name: str, token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{token}".encode()).decode()}


def deploy_original_bundle(client: FlaskClient, token: str) -> dict[str, Any]:
    """Every file of pathways/ and dmn/ as shipped (safety properties included), as a lead
    deploys the bundle through the product's own API."""
    data = {name: (io.BytesIO(content), name) for name, content in collect_files([ROOT / "pathways", ROOT / "dmn"]).items()}
    r = client.post("/api/definitions", data=data, headers=bearer(token), content_type="multipart/form-data")
    assert r.status_code == 201, r.json
    assert (r.json["key"], r.json["version"], r.json["created"]) == ("ovcf_pathway", 1, True)
    return r.json


def modeler_deploy(client: FlaskClient, token: str, deployment_name: str, files: dict[str, str]) -> dict[str, Any]:
    """What Camunda Modeler 5's Deploy button sends to a Camunda 7 engine: the diagram (and any
    included additional files) as parts named by their file names."""
    form: dict[str, Any] = {"deployment-name": deployment_name, "deployment-source": "Camunda Modeler",
                            "deploy-changed-only": "true"}
    form.update({name: (io.BytesIO(text.encode("utf-8")), name) for name, text in files.items()})
    r = client.post("/engine-rest/deployment/create", data=form, headers=basic("clinical_lead-user", token),
                    content_type="multipart/form-data")
    assert r.status_code == 200, json.dumps(r.json, indent=1)[:4000]
    return r.json


def versions(client: FlaskClient, token: str) -> list[tuple[str, int]]:
    items = client.get("/api/definitions", headers=bearer(token)).json["items"]
    return sorted((item["key"], item["version"]) for item in items)


# ---- the tests -------------------------------------------------------------------------------

def test_a_save_with_no_edit_deploys_no_new_version(client: FlaskClient, tokens: dict[str, str],
                                                    resaved: dict[str, Resaved]) -> None:
    lead = tokens["clinical_lead"]
    deploy_original_bundle(client, lead)
    first = versions(client, lead)
    assert first == [("ovcf_pathway", 1)]

    # the editors really rewrote the files (entities, defaults, layout, exporter version, ...)
    rewritten = sorted(name for name, files in resaved.items() if files.saved != files.original)
    assert rewritten, "the editors saved every file byte for byte: this test would prove nothing"

    new_versions: dict[str, Any] = {}
    for name, files in resaved.items():
        body = modeler_deploy(client, lead, name, {name: files.saved})
        if body["deployedProcessDefinitions"] is not None:
            new_versions[name] = sorted(d["version"] for d in body["deployedProcessDefinitions"].values())
    assert new_versions == {}, f"an unedited save made new versions: {new_versions}"
    assert versions(client, lead) == first


def test_the_three_edits_are_what_the_editors_saved(three_edits: ThreeEdits, resaved: dict[str, Resaved]) -> None:
    # (1) the threshold cell
    assert cell_text(three_edits.dmn, THRESHOLD) == THRESHOLD.after
    # (2) the timer
    assert timer_body(three_edits.bpmn_timer, TIMER.element) == TIMER.after
    assert timer_body(three_edits.bpmn, TIMER.element) == TIMER.after
    # (3) the user task, splitting the flow it was dropped on
    tree = _tree(three_edits.bpmn)
    [task] = tree.xpath(f"//bpmn:userTask[@id='{ADDED_TASK.task}']", namespaces=NS)
    assert task.get("name") == ADDED_TASK.name
    assert task.get(f"{CAMUNDA}candidateGroups") == ADDED_TASK.candidate_groups
    [incoming] = task.findall("bpmn:incoming", NS)
    [outgoing] = task.findall("bpmn:outgoing", NS)
    assert incoming.text == ADDED_TASK.flow
    [before] = tree.xpath(f"//bpmn:sequenceFlow[@id='{ADDED_TASK.flow}']", namespaces=NS)
    [after] = tree.xpath(f"//bpmn:sequenceFlow[@id='{outgoing.text}']", namespaces=NS)
    assert (before.get("sourceRef"), before.get("targetRef")) == (ADDED_TASK.source, ADDED_TASK.task)
    assert (after.get("sourceRef"), after.get("targetRef")) == (ADDED_TASK.task, ADDED_TASK.target)
    # the gateway's condition stays on the gateway's flow; the new flow has none
    assert before.find("bpmn:conditionExpression", NS) is not None and after.find("bpmn:conditionExpression", NS) is None
    shown = {e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNShape", NS)} | {
        e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert {ADDED_TASK.task, ADDED_TASK.flow, outgoing.text} <= shown
    lanes = tree.xpath(f"//bpmn:lane[bpmn:flowNodeRef='{ADDED_TASK.task}']/@id", namespaces=NS)
    assert lanes == ["Lane_clinician"]

    # each step changes meaning beyond what an unedited save does
    unedited = {name: canonical_form(resaved[name].saved) for name in (BPMN_NAME, DMN_NAME)}
    assert canonical_form(three_edits.dmn) != unedited[DMN_NAME]
    assert canonical_form(three_edits.bpmn_timer) != unedited[BPMN_NAME]
    assert canonical_form(three_edits.bpmn) != canonical_form(three_edits.bpmn_timer)


def test_three_edits_in_the_modeler_deploy_version_2(client: FlaskClient, tokens: dict[str, str],
                                                     three_edits: ThreeEdits) -> None:
    lead = tokens["clinical_lead"]
    deploy_original_bundle(client, lead)
    body = modeler_deploy(client, lead, BPMN_NAME, three_edits.files())
    [(definition_id, definition)] = body["deployedProcessDefinitions"].items()
    assert (definition["key"], definition["version"]) == ("ovcf_pathway", 2) and definition["id"] == definition_id
    assert (body["name"], body["source"]) == (BPMN_NAME, "Camunda Modeler")
    assert versions(client, lead) == [("ovcf_pathway", 1), ("ovcf_pathway", 2)]

    # deploying the same edited files again is no new version
    again = modeler_deploy(client, lead, BPMN_NAME, three_edits.files())
    assert again["deployedProcessDefinitions"] is None

    # the diff between the two versions lists exactly the three edits, in a lead's words (the
    # editor's re-encoding, layout and schema ordering of everything else count for nothing)
    diff = client.get("/api/definitions/ovcf_pathway/diff?from=1&to=2", headers=bearer(lead)).json
    assert sorted((c["file"], c["change"], c["kind"], c["element"]) for c in diff["changes"]
                  if c["kind"] != "cell") == [
        (BPMN_NAME, "added", "element", ADDED_TASK.task), (BPMN_NAME, "changed", "timer", TIMER.element)]
    [cell] = [c for c in diff["changes"] if c["kind"] == "cell"]
    assert (cell["file"], cell["old"], cell["new"]) == (DMN_NAME, THRESHOLD.before, THRESHOLD.after)
    assert len(diff["changes"]) == 3
    [timer] = [c for c in diff["changes"] if c["kind"] == "timer"]
    assert timer["text"].endswith(": waits 1 hour → 45 minutes")
    [task] = [c for c in diff["changes"] if c["kind"] == "element"]
    assert "between Choice" in task["text"] and "GX_Triage" in task["text"] and "GM_Conservative" in task["text"]
