"""The semantic diff between two versions (issue 11): each change of meaning once, in the words a
clinical lead reads; layout and formatting never count."""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient

from api.testkit import BUNDLE, bearer
from engine.cli import main
from engine.models.diff import diff_bundles

pytest_plugins = ["api.testing"]

ROOT = Path(__file__).resolve().parents[1]
BPMN = (ROOT / "pathways" / "ovcf_pathway.bpmn").read_text()
DMN = (ROOT / "dmn" / "ovcf_pathway.dmn").read_text()
OLD = {"ovcf_pathway.bpmn": BPMN, "ovcf_pathway.dmn": DMN}

FLOW = '<bpmn:sequenceFlow id="Flow_UT_Chase_UT1_Intake_End_Chase_UT1_Intake" sourceRef="UT_Chase_UT1_Intake" ' \
       'targetRef="End_Chase_UT1_Intake" />'
ADDED = """<bpmn:userTask id="UT_Added_Check" name="Check the chase was answered" camunda:candidateGroups="coordinator">
      <bpmn:incoming>Flow_UT_Chase_UT1_Intake_End_Chase_UT1_Intake</bpmn:incoming>
      <bpmn:outgoing>Flow_Added_Check_End</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="BE_Added_Check_Overdue" name="Overdue" cancelActivity="false" attachedToRef="UT_Added_Check">
      <bpmn:timerEventDefinition id="Timer_Added_Check"><bpmn:timeDuration>P2D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="Flow_UT_Chase_UT1_Intake_End_Chase_UT1_Intake" sourceRef="UT_Chase_UT1_Intake" targetRef="UT_Added_Check" />
    <bpmn:sequenceFlow id="Flow_Added_Check_End" sourceRef="UT_Added_Check" targetRef="End_Chase_UT1_Intake" />"""


def _insert_task(bpmn: str) -> str:
    assert FLOW in bpmn
    end = '<bpmn:endEvent id="End_Chase_UT1_Intake"'
    start = bpmn.index(end)
    closing = bpmn.index("</bpmn:endEvent>", start)
    block = bpmn[start:closing]
    rewired = block.replace("<bpmn:incoming>Flow_UT_Chase_UT1_Intake_End_Chase_UT1_Intake</bpmn:incoming>",
                            "<bpmn:incoming>Flow_Added_Check_End</bpmn:incoming>")
    assert rewired != block
    return (bpmn[:start] + rewired + bpmn[closing:]).replace(FLOW, ADDED)


def test_three_edits_are_three_changes_in_clinical_words() -> None:
    threshold = '"P1D")}</bpmn:timeDate>'
    assert threshold in BPMN and '"P12W"' in DMN
    new = {"ovcf_pathway.bpmn": _insert_task(BPMN.replace(threshold, '"P3D")}</bpmn:timeDate>', 1)),
           "ovcf_pathway.dmn": DMN.replace('"P12W"', '"P13W"', 1)}
    changes = diff_bundles(OLD, new)
    assert [(c.file, c.change, c.kind, c.element) for c in changes[:2]] == [
        ("ovcf_pathway.bpmn", "changed", "timer", "BE_UT1_Intake_Overdue"),
        ("ovcf_pathway.bpmn", "added", "element", "UT_Added_Check"),
    ]
    assert (changes[2].file, changes[2].change, changes[2].kind) == ("ovcf_pathway.dmn", "changed", "cell")
    timer, task, cell = changes
    assert timer.text == ("Escalation 'Overdue' (BE_UT1_Intake_Overdue): fires at "
                          "'${now() + duration(\"P1D\")}' → '${now() + duration(\"P3D\")}'")
    assert task.text == ("Task 'Check the chase was answered' (UT_Added_Check) added between Task 'Chase overdue: "
                         "Intake and red-flag screen' (UT_Chase_UT1_Intake) and End 'Chased' (End_Chase_UT1_Intake)")
    assert any("Escalation 'Overdue' (BE_Added_Check_Overdue) added, waits 2 days" in r for r in task.related)
    assert any("Flow_Added_Check_End" in r for r in task.related)
    assert (cell.old, cell.new) == ('"P12W"', '"P13W"')
    assert cell.text.startswith("Decision 'SitePolicy (clinical lead edits)' (SitePolicy): rule 1 (SP_R1), "
                                "''3 months' as ISO-8601")


def test_layout_and_formatting_are_no_change_and_removals_are_named() -> None:
    moved = BPMN.replace('<dc:Bounds x="', '<dc:Bounds x="1').replace("&gt;", ">")
    assert diff_bundles(OLD, {**OLD, "ovcf_pathway.bpmn": moved}) == []
    start = DMN.index('<rule id="SP_R1">')
    without = DMN[:start] + DMN[DMN.index("</rule>", start) + len("</rule>"):]
    [removed] = diff_bundles(OLD, {**OLD, "ovcf_pathway.dmn": without})
    assert (removed.change, removed.kind, removed.element) == ("removed", "rule", "SP_R1")
    assert "rule 1 (SP_R1) removed: " in removed.text and '"P12W"' in removed.text
    label = 'label="Symptom onset date"'
    [field] = diff_bundles(OLD, {**OLD, "ovcf_pathway.bpmn": BPMN.replace(label, 'label="Date symptoms began"')})
    assert (field.kind, field.old, field.new) == ("form-field", "Symptom onset date", "Date symptoms began")
    assert field.text.startswith("Task 'Intake and red-flag screen' (UT1_Intake): form field")


def test_the_cli_compares_folders_and_says_when_nothing_changed(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for folder, dmn in ((old, DMN), (new, DMN.replace('"P12W"', '"P13W"', 1))):
        folder.mkdir()
        (folder / "ovcf_pathway.bpmn").write_text(BPMN)
        (folder / "ovcf_pathway.dmn").write_text(dmn)
    changed = CliRunner().invoke(main, ["diff", str(old), str(new)])
    assert changed.exit_code == 1 and changed.output.startswith("ovcf_pathway.dmn: Decision 'SitePolicy")
    same = CliRunner().invoke(main, ["diff", str(old), str(old)])
    assert (same.exit_code, same.output) == (0, "no change in meaning\n")


def test_the_api_diffs_two_deployed_versions(client: FlaskClient, tokens: dict[str, str]) -> None:
    lead = bearer(tokens["clinical_lead"])
    bpmn, dmn = (BUNDLE / "engine_acceptance.bpmn").read_text(), (BUNDLE / "triage.dmn").read_text()
    for version_dmn in (dmn, dmn.replace("&gt;= 8", "&gt;= 7")):
        data = {"f1": (io.BytesIO(bpmn.encode()), "engine_acceptance.bpmn"),
                "f2": (io.BytesIO(version_dmn.encode()), "triage.dmn")}
        assert client.post("/api/definitions", data=data, headers=lead).status_code == 201
    found = client.get("/api/definitions/engine_acceptance/diff", headers=lead)
    assert found.status_code == 200, found.json
    assert (found.json["from"], found.json["to"]) == (1, 2)
    [cell] = found.json["changes"]
    assert (cell["kind"], cell["old"], cell["new"]) == ("cell", ">= 8", ">= 7")
    assert client.get("/api/definitions/engine_acceptance/diff?from=2&to=1", headers=lead).json["changes"][0][
        "new"] == ">= 8"
    assert client.get("/api/definitions/engine_acceptance/diff?from=3", headers=lead).status_code == 404
    assert client.get("/api/definitions/engine_acceptance/diff?since=1", headers=lead).status_code == 422
