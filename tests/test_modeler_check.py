"""Modeler fit (issue 3, deliverable 3): every BPMN/DMN file loads in Camunda Modeler 5 (Camunda
Platform 7.22) cleanly and is readable when opened.

The check itself is the node tool in ``tools/modeler-check`` (``node check.mjs <file-or-folder>...``):
bpmn-moddle/dmn-moddle with the Camunda 7 moddle extensions expecting 0 import warnings, bpmnlint
``recommended`` + ``camunda-compat`` 7.22 expecting 0 errors, complete BPMNDI/DMNDI, no overlapping
shapes, no edges detached from what they connect. It prints ``file:element-id: message`` per
finding and exits 1 when there are any.

Here we install it (``npm ci`` from the lockfile, when ``node_modules`` is missing or older than the
lockfile), run it on every file of ``pathways/``, ``dmn/``, ``tests/fixtures/bundle/`` and
``tests/fixtures/dmn/`` (one case per file, so a known-bad fixture is marked on its own and a new
file is checked as soon as it lands), and prove on deliberately broken files that it finds what it
should. Skipped only when ``node``/``npm`` are not on PATH.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "modeler-check"
CHECK = TOOL / "check.mjs"

CHECKED_FOLDERS = ["pathways", "dmn", "tests/fixtures/bundle", "tests/fixtures/dmn"]

# Existing files with findings, owned by others: reported, not edited. strict=True makes the case
# fail (XPASS) once the file is fixed, so the mark gets removed then.
KNOWN_FINDINGS = {
    "tests/fixtures/dmn/broken.dmn": (
        "deliberately broken fixture for the decision loader: InformationRequirement_licy0 requires "
        "unresolved <#Decision_Missing>, and its DMNEdge ends at (250,180), away from its target "
        "Decision_BadPolicy (400,100 180x80)"
    ),
}


def _model_files() -> list[Path]:
    files: list[Path] = []
    for folder in CHECKED_FOLDERS:
        base = ROOT / folder
        if base.is_dir():
            files += sorted(p for p in base.rglob("*") if p.suffix.lower() in (".bpmn", ".dmn") and p.is_file())
    return files


def _file_params() -> list:
    params = []
    for path in _model_files():
        rel = path.relative_to(ROOT).as_posix()
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_FINDINGS[rel])] if rel in KNOWN_FINDINGS else []
        params.append(pytest.param(rel, id=rel, marks=marks))
    return params


@pytest.fixture(scope="session")
def modeler_check() -> list[str]:
    """The command prefix that runs the check, with its node packages installed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip(f"node/npm not on PATH (node={node}, npm={npm}): the Modeler check needs them")

    lockfile = TOOL / "package-lock.json"
    installed = TOOL / "node_modules" / ".package-lock.json"  # written by npm on every install

    def stale() -> bool:
        return not installed.exists() or (lockfile.exists() and installed.stat().st_mtime < lockfile.stat().st_mtime)

    if stale():
        # serialize concurrent test runs installing into the same folder
        with open(TOOL / ".npm-install.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if stale():
                cmd = [npm, "ci" if lockfile.exists() else "install", "--no-audit", "--no-fund"]
                done = subprocess.run(cmd, cwd=TOOL, capture_output=True, text=True, timeout=600)
                if done.returncode != 0:
                    pytest.fail(f"{' '.join(cmd)} failed in {TOOL} ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return [node, str(CHECK)]


def run_check(cmd: list[str], *targets: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*cmd, *map(str, targets)], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.mark.parametrize("rel", _file_params())
def test_file_is_modeler_clean(modeler_check: list[str], rel: str) -> None:
    done = run_check(modeler_check, rel)
    assert done.returncode == 0, f"Modeler check findings for {rel}:\n{done.stdout}{done.stderr}"


def test_every_checked_folder_runs(modeler_check: list[str]) -> None:
    """The folders as a whole (empty or not yet present ones included) go through the tool's own
    folder walk; the per-file cases above carry the verdicts, so here only the walk is asserted."""
    present = [f for f in CHECKED_FOLDERS if (ROOT / f).is_dir()]
    done = run_check(modeler_check, *present)
    assert done.returncode in (0, 1), done.stderr
    assert f"{len(_model_files())} file(s)" in done.stderr, done.stderr


# --------------------------------------------------------------------------------------------
# the check detects problems

BPMN_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Definitions_mc" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.31.0" modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.22.0">
"""

# A clean model exercising every exclusion: pool with two lanes, an expanded sub-process holding a
# task with a boundary event, an interrupting boundary event on the sub-process itself, a collapsed
# sub-process drawn on its own plane, a text annotation with an association, camunda properties and
# a foreign-namespace extension element (which Modeler keeps and must not be a finding).
CLEAN_BPMN = BPMN_HEAD + """  <bpmn:collaboration id="Collaboration_mc">
    <bpmn:participant id="Participant_mc" name="Pathway" processRef="Process_mc" />
  </bpmn:collaboration>
  <bpmn:process id="Process_mc" name="Pathway" isExecutable="true" camunda:historyTimeToLive="P3650D">
    <bpmn:laneSet id="LaneSet_mc">
      <bpmn:lane id="Lane_coordinator" name="Care coordinator">
        <bpmn:flowNodeRef>Start_mc</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Sub_expanded</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_inner</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Start_inner</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_inner</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Boundary_inner</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_reminded</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Boundary_redflag</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_clinician" name="Clinician">
        <bpmn:flowNodeRef>Sub_collapsed</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_mc</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_redflag</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_mc" name="Enrolled"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:subProcess id="Sub_expanded" name="Conservative phase">
      <bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing>
      <bpmn:startEvent id="Start_inner" name="Phase started"><bpmn:outgoing>Flow_i1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:userTask id="Task_inner" name="Reassess" camunda:candidateGroups="coordinator" camunda:dueDate="P4W">
        <bpmn:extensionElements>
          <camunda:properties><camunda:property name="source" value="clinical-design 4.2" /></camunda:properties>
          <ext:note xmlns:ext="urn:example:ext" kind="free"><ext:text>foreign extensions are kept</ext:text></ext:note>
        </bpmn:extensionElements>
        <bpmn:incoming>Flow_i1</bpmn:incoming>
        <bpmn:outgoing>Flow_i2</bpmn:outgoing>
      </bpmn:userTask>
      <bpmn:endEvent id="End_inner" name="Phase done"><bpmn:incoming>Flow_i2</bpmn:incoming></bpmn:endEvent>
      <bpmn:boundaryEvent id="Boundary_inner" name="Overdue" cancelActivity="false" attachedToRef="Task_inner">
        <bpmn:outgoing>Flow_i3</bpmn:outgoing>
        <bpmn:timerEventDefinition id="Timer_inner"><bpmn:timeDuration>P6W</bpmn:timeDuration></bpmn:timerEventDefinition>
      </bpmn:boundaryEvent>
      <bpmn:endEvent id="End_reminded" name="Reminded"><bpmn:incoming>Flow_i3</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="Flow_i1" sourceRef="Start_inner" targetRef="Task_inner" />
      <bpmn:sequenceFlow id="Flow_i2" sourceRef="Task_inner" targetRef="End_inner" />
      <bpmn:sequenceFlow id="Flow_i3" sourceRef="Boundary_inner" targetRef="End_reminded" />
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="Boundary_redflag" name="Red flag" attachedToRef="Sub_expanded">
      <bpmn:outgoing>Flow_4</bpmn:outgoing>
      <bpmn:messageEventDefinition id="MessageDef_redflag" messageRef="Message_redflag" />
    </bpmn:boundaryEvent>
    <bpmn:subProcess id="Sub_collapsed" name="Bone therapy">
      <bpmn:incoming>Flow_2</bpmn:incoming>
      <bpmn:outgoing>Flow_3</bpmn:outgoing>
      <bpmn:startEvent id="Start_c" name="Therapy started"><bpmn:outgoing>Flow_c1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:userTask id="Task_c" name="Prescribe" camunda:candidateGroups="clinician"><bpmn:incoming>Flow_c1</bpmn:incoming><bpmn:outgoing>Flow_c2</bpmn:outgoing></bpmn:userTask>
      <bpmn:endEvent id="End_c" name="Prescribed"><bpmn:incoming>Flow_c2</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="Flow_c1" sourceRef="Start_c" targetRef="Task_c" />
      <bpmn:sequenceFlow id="Flow_c2" sourceRef="Task_c" targetRef="End_c" />
    </bpmn:subProcess>
    <bpmn:endEvent id="End_mc" name="Discharged"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="End_redflag" name="Urgent review"><bpmn:incoming>Flow_4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_mc" targetRef="Sub_expanded" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Sub_expanded" targetRef="Sub_collapsed" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Sub_collapsed" targetRef="End_mc" />
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Boundary_redflag" targetRef="End_redflag" />
    <bpmn:textAnnotation id="Annotation_mc"><bpmn:text>Anchored on the fracture date</bpmn:text></bpmn:textAnnotation>
    <bpmn:association id="Association_mc" sourceRef="Task_inner" targetRef="Annotation_mc" />
  </bpmn:process>
  <bpmn:message id="Message_redflag" name="redFlagReported" />
  <bpmndi:BPMNDiagram id="Diagram_mc">
    <bpmndi:BPMNPlane id="Plane_mc" bpmnElement="Collaboration_mc">
      <bpmndi:BPMNShape id="Participant_mc_di" bpmnElement="Participant_mc" isHorizontal="true"><dc:Bounds x="100" y="40" width="1000" height="500" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_coordinator_di" bpmnElement="Lane_coordinator" isHorizontal="true"><dc:Bounds x="130" y="40" width="970" height="300" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_clinician_di" bpmnElement="Lane_clinician" isHorizontal="true"><dc:Bounds x="130" y="340" width="970" height="200" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Start_mc_di" bpmnElement="Start_mc"><dc:Bounds x="172" y="162" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Sub_expanded_di" bpmnElement="Sub_expanded" isExpanded="true"><dc:Bounds x="260" y="70" width="480" height="240" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Start_inner_di" bpmnElement="Start_inner"><dc:Bounds x="292" y="162" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_inner_di" bpmnElement="Task_inner"><dc:Bounds x="380" y="140" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="End_inner_di" bpmnElement="End_inner"><dc:Bounds x="552" y="162" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Boundary_inner_di" bpmnElement="Boundary_inner"><dc:Bounds x="412" y="202" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="End_reminded_di" bpmnElement="End_reminded"><dc:Bounds x="552" y="252" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Boundary_redflag_di" bpmnElement="Boundary_redflag"><dc:Bounds x="612" y="292" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Sub_collapsed_di" bpmnElement="Sub_collapsed" isExpanded="false"><dc:Bounds x="800" y="390" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="End_mc_di" bpmnElement="End_mc"><dc:Bounds x="982" y="412" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="End_redflag_di" bpmnElement="End_redflag"><dc:Bounds x="612" y="452" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Annotation_mc_di" bpmnElement="Annotation_mc"><dc:Bounds x="800" y="80" width="200" height="40" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1"><di:waypoint x="208" y="180" /><di:waypoint x="260" y="180" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_i1_di" bpmnElement="Flow_i1"><di:waypoint x="328" y="180" /><di:waypoint x="380" y="180" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_i2_di" bpmnElement="Flow_i2"><di:waypoint x="480" y="180" /><di:waypoint x="552" y="180" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_i3_di" bpmnElement="Flow_i3"><di:waypoint x="430" y="238" /><di:waypoint x="430" y="270" /><di:waypoint x="552" y="270" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2"><di:waypoint x="740" y="190" /><di:waypoint x="770" y="190" /><di:waypoint x="770" y="430" /><di:waypoint x="800" y="430" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_3_di" bpmnElement="Flow_3"><di:waypoint x="900" y="430" /><di:waypoint x="982" y="430" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_4_di" bpmnElement="Flow_4"><di:waypoint x="630" y="328" /><di:waypoint x="630" y="452" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Association_mc_di" bpmnElement="Association_mc"><di:waypoint x="480" y="150" /><di:waypoint x="800" y="100" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
  <bpmndi:BPMNDiagram id="Diagram_collapsed">
    <bpmndi:BPMNPlane id="Plane_collapsed" bpmnElement="Sub_collapsed">
      <bpmndi:BPMNShape id="Start_c_di" bpmnElement="Start_c"><dc:Bounds x="180" y="160" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_c_di" bpmnElement="Task_c"><dc:Bounds x="270" y="138" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="End_c_di" bpmnElement="End_c"><dc:Bounds x="430" y="160" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_c1_di" bpmnElement="Flow_c1"><di:waypoint x="216" y="178" /><di:waypoint x="270" y="178" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_c2_di" bpmnElement="Flow_c2"><di:waypoint x="370" y="178" /><di:waypoint x="430" y="178" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""

# Broken on purpose: an unknown camunda attribute (camunda:dueDat), a task with no BPMNShape
# (Task_noshape), two overlapping shapes (Task_a over Task_b), a task straddling the lane border
# (Task_cross), an edge ending 20px short of its target (Flow_1) and a BPMNEdge for a sequence
# flow that does not exist (Flow_ghost: an unresolved reference).
BROKEN_BPMN = BPMN_HEAD + """  <bpmn:collaboration id="Collaboration_b">
    <bpmn:participant id="Participant_b" name="Broken" processRef="Process_b" />
  </bpmn:collaboration>
  <bpmn:process id="Process_b" name="Broken" isExecutable="true" camunda:historyTimeToLive="P30D">
    <bpmn:laneSet id="LaneSet_b">
      <bpmn:lane id="Lane_top" name="Top"><bpmn:flowNodeRef>Start_b</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_a</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_b</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_bottom" name="Bottom"><bpmn:flowNodeRef>Task_noshape</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_cross</bpmn:flowNodeRef><bpmn:flowNodeRef>End_b</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_b" name="Start"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_a" name="A" camunda:candidateGroups="clinician" camunda:dueDat="P1D"><bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Task_b" name="B" camunda:candidateGroups="clinician"><bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Task_noshape" name="No shape" camunda:candidateGroups="clinician"><bpmn:incoming>Flow_3</bpmn:incoming><bpmn:outgoing>Flow_4</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Task_cross" name="Crossing" camunda:candidateGroups="clinician"><bpmn:incoming>Flow_4</bpmn:incoming><bpmn:outgoing>Flow_5</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_b" name="End"><bpmn:incoming>Flow_5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_b" targetRef="Task_a" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_a" targetRef="Task_b" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_b" targetRef="Task_noshape" />
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_noshape" targetRef="Task_cross" />
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Task_cross" targetRef="End_b" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_b">
    <bpmndi:BPMNPlane id="Plane_b" bpmnElement="Collaboration_b">
      <bpmndi:BPMNShape id="Participant_b_di" bpmnElement="Participant_b" isHorizontal="true"><dc:Bounds x="100" y="40" width="900" height="400" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_top_di" bpmnElement="Lane_top" isHorizontal="true"><dc:Bounds x="130" y="40" width="870" height="200" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_bottom_di" bpmnElement="Lane_bottom" isHorizontal="true"><dc:Bounds x="130" y="240" width="870" height="200" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Start_b_di" bpmnElement="Start_b"><dc:Bounds x="172" y="122" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_a_di" bpmnElement="Task_a"><dc:Bounds x="260" y="100" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_b_di" bpmnElement="Task_b"><dc:Bounds x="320" y="120" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_cross_di" bpmnElement="Task_cross"><dc:Bounds x="600" y="200" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="End_b_di" bpmnElement="End_b"><dc:Bounds x="800" y="322" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1"><di:waypoint x="208" y="140" /><di:waypoint x="240" y="140" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2"><di:waypoint x="360" y="140" /><di:waypoint x="320" y="160" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_3_di" bpmnElement="Flow_3"><di:waypoint x="420" y="160" /><di:waypoint x="500" y="330" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_4_di" bpmnElement="Flow_4"><di:waypoint x="500" y="330" /><di:waypoint x="600" y="240" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_5_di" bpmnElement="Flow_5"><di:waypoint x="700" y="240" /><di:waypoint x="800" y="340" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_ghost_di" bpmnElement="Flow_ghost"><di:waypoint x="100" y="100" /><di:waypoint x="120" y="100" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""

DMN_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" xmlns:di="http://www.omg.org/spec/DMN/20180521/DI/" xmlns:camunda="http://camunda.org/schema/1.0/dmn" xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Definitions_mcdmn" name="Check" namespace="http://camunda.org/schema/1.0/dmn" exporter="Camunda Modeler" exporterVersion="5.31.0" modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.22.0">
"""

# Broken on purpose: an unknown camunda attribute on an input (camunda:inputVar), an input data
# with no DMNShape (InputData_noshape), two overlapping decision shapes, a requirement pointing
# at nothing (InformationRequirement_ghost).
BROKEN_DMN = DMN_HEAD + """  <decision id="Decision_a" name="A">
    <informationRequirement id="InformationRequirement_ghost"><requiredInput href="#InputData_ghost" /></informationRequirement>
    <decisionTable id="DecisionTable_a">
      <input id="Input_a" label="Score" camunda:inputVar="score"><inputExpression id="InputExpression_a" typeRef="number"><text>score</text></inputExpression></input>
      <output id="Output_a" name="level" typeRef="string" />
      <rule id="Rule_a"><inputEntry id="UnaryTests_a"><text>-</text></inputEntry><outputEntry id="LiteralExpression_a"><text>"low"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="Decision_b" name="B">
    <literalExpression id="LiteralExpression_b"><text>1</text></literalExpression>
  </decision>
  <inputData id="InputData_noshape" name="Score" />
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="DMNDiagram_mc">
      <dmndi:DMNShape id="DMNShape_a" dmnElementRef="Decision_a"><dc:Bounds height="80" width="180" x="160" y="100" /></dmndi:DMNShape>
      <dmndi:DMNShape id="DMNShape_b" dmnElementRef="Decision_b"><dc:Bounds height="80" width="180" x="300" y="120" /></dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
"""


def test_clean_model_passes(modeler_check: list[str], tmp_path: Path) -> None:
    (tmp_path / "clean.bpmn").write_text(CLEAN_BPMN)
    done = run_check(modeler_check, tmp_path)
    assert done.returncode == 0, f"expected a clean run:\n{done.stdout}{done.stderr}"
    assert done.stdout == ""
    assert "1 file(s), 0 finding(s)" in done.stderr


def test_broken_bpmn_findings(modeler_check: list[str], tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "broken.bpmn").write_text(BROKEN_BPMN)
    done = run_check(modeler_check, "models", cwd=tmp_path)  # a folder: the walk finds the file
    lines = done.stdout.splitlines()
    expected = [
        "models/broken.bpmn:Task_a: import warning: unknown attribute <camunda:dueDat>",
        "models/broken.bpmn:Flow_ghost_di: import warning: unresolved reference <Flow_ghost>",
        "models/broken.bpmn:Task_noshape: UserTask has no BPMNShape (missing diagram interchange)",
        "models/broken.bpmn:Task_a: shape (260,100 100x80) overlaps Task_b (320,120 100x80)",
        "models/broken.bpmn:Task_cross: shape (600,200 100x80) crosses the boundary of Lane_top (130,40 870x200)",
        "models/broken.bpmn:Task_cross: shape (600,200 100x80) crosses the boundary of Lane_bottom (130,240 870x200)",
        "models/broken.bpmn:Flow_1: SequenceFlow edge ends at (240,140), away from its target Task_a (260,100 100x80)",
        "models/broken.bpmn:Task_noshape: Element is missing bpmndi (bpmnlint no-bpmndi)",
    ]
    missing = [line for line in expected if line not in lines]
    assert done.returncode == 1, done.stdout + done.stderr
    assert not missing, f"missing findings {missing}\ngot:\n{done.stdout}"
    # every line has the file:element-id: message shape
    assert all(line.startswith("models/broken.bpmn:") and line.count(": ") >= 1 for line in lines), lines


def test_broken_dmn_findings(modeler_check: list[str], tmp_path: Path) -> None:
    path = tmp_path / "broken.dmn"
    path.write_text(BROKEN_DMN)
    done = run_check(modeler_check, path)
    lines = done.stdout.splitlines()
    expected = [
        f"{path}:Input_a: import warning: unknown attribute <camunda:inputVar>",
        f"{path}:Decision_a: shape (160,100 180x80) overlaps Decision_b (300,120 180x80)",
        f"{path}:InformationRequirement_ghost: unresolved reference <#InputData_ghost> in requiredInput",
        f"{path}:InputData_noshape: InputData has no DMNShape (missing diagram interchange)",
        f"{path}:InformationRequirement_ghost: InformationRequirement has no DMNEdge (missing diagram interchange)",
    ]
    missing = [line for line in expected if line not in lines]
    assert done.returncode == 1, done.stdout + done.stderr
    assert not missing, f"missing findings {missing}\ngot:\n{done.stdout}"


def test_unparsable_file_is_a_finding(modeler_check: list[str], tmp_path: Path) -> None:
    (tmp_path / "not_xml.bpmn").write_text("<bpmn:definitions")
    done = run_check(modeler_check, tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith(f"{tmp_path / 'not_xml.bpmn'}:-: parse error: "), done.stdout


def test_missing_path_is_a_usage_error(modeler_check: list[str], tmp_path: Path) -> None:
    done = run_check(modeler_check, tmp_path / "nowhere")
    assert done.returncode == 2
    assert "no such file or folder" in done.stderr


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('modeler:executionPlatformVersion="7.22.0"', 'modeler:executionPlatformVersion="7.21.0"', '"7.21.0"'),
        (' modeler:executionPlatformVersion="7.22.0"', "", "null"),
    ],
    ids=["7.21", "no-version"],
)
def test_execution_platform_must_be_7_22(
    modeler_check: list[str], tmp_path: Path, old: str, new: str, said: str
) -> None:
    path = tmp_path / "platform.bpmn"
    path.write_text(CLEAN_BPMN.replace(old, new))
    done = run_check(modeler_check, path)
    assert done.returncode == 1
    assert done.stdout.startswith(
        f'{path}:Definitions_mc: modeler:executionPlatform/executionPlatformVersion are "Camunda Platform"/{said}, '
    ), done.stdout
