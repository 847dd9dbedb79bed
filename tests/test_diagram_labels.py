"""Labels of the bundled diagrams collide with nothing (issue 11), as read from BPMNDI/DMNDI: no
label over another label, a shape or a flow; no boundary event over its task's name; no DRD shape
under the diagram's title. The checker itself is shown to find each kind on a small diagram."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.models.layout import collisions, text_lines

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted([*ROOT.glob("pathways/*.bpmn"), *ROOT.glob("pathways/*.dmn"), *ROOT.glob("dmn/*.dmn")])


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_no_label_of_a_bundled_diagram_collides(path: Path) -> None:
    found = collisions(path.name, path.read_text(encoding="utf-8"))
    assert found == [], "\n".join(str(c) for c in found)


def test_every_kind_of_diagram_is_checked() -> None:
    assert {p.suffix for p in BUNDLED} == {".bpmn", ".dmn"} and len(BUNDLED) >= 10


HEAD = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="D" targetNamespace="t"><bpmn:process id="P">')


def _bpmn(elements: str, shapes: str) -> str:
    return (f'{HEAD}{elements}</bpmn:process><bpmndi:BPMNDiagram id="DI"><bpmndi:BPMNPlane id="PL" bpmnElement="P">'
            f"{shapes}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>")


def _shape(ref: str, x: int, y: int, w: int, h: int, label: tuple[int, int, int, int] | None = None) -> str:
    inner = f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" />'
    if label:
        lx, ly, lw, lh = label
        inner += f'<bpmndi:BPMNLabel><dc:Bounds x="{lx}" y="{ly}" width="{lw}" height="{lh}" /></bpmndi:BPMNLabel>'
    return f'<bpmndi:BPMNShape id="{ref}_di" bpmnElement="{ref}">{inner}</bpmndi:BPMNShape>'


def test_a_label_over_another_label_a_shape_or_a_flow_is_found() -> None:
    elements = ('<bpmn:startEvent id="S" name="Start here" /><bpmn:endEvent id="E" name="Finished" />'
                '<bpmn:task id="T" name="Do it" /><bpmn:sequenceFlow id="F" sourceRef="S" targetRef="T" />')
    apart = _shape("S", 100, 100, 36, 36, (73, 140, 90, 14)) + _shape("E", 400, 100, 36, 36, (373, 140, 90, 14)) \
        + _shape("T", 200, 80, 100, 80) \
        + '<bpmndi:BPMNEdge id="F_di" bpmnElement="F"><di:waypoint x="136" y="118" /><di:waypoint x="200" y="118" />' \
          "</bpmndi:BPMNEdge>"
    assert collisions("ok.bpmn", _bpmn(elements, apart)) == []
    on_label = apart.replace('x="373" y="140"', 'x="90" y="142"')
    assert [c.element for c in collisions("x.bpmn", _bpmn(elements, on_label))] == ["E"]
    on_task = apart.replace('x="373" y="140"', 'x="220" y="100"')
    [found] = collisions("x.bpmn", _bpmn(elements, on_task))
    assert found.element == "E" and "lies over T ('Do it')" in found.message
    crossed = apart.replace('x="73" y="140"', 'x="120" y="110"')  # the start's label on its own flow
    [found] = collisions("x.bpmn", _bpmn(elements, crossed))
    assert found.element == "S" and "flow F runs through the label 'Start here'" in found.message


def test_a_boundary_event_over_the_lines_of_its_task_name_is_found() -> None:
    long_name = "Urgent spine surgery or MRI referral after a red flag"
    assert text_lines(long_name, 90) >= 4 and text_lines(long_name, 150) <= 3
    elements = (f'<bpmn:userTask id="T" name="{long_name}" />'
                '<bpmn:boundaryEvent id="B" attachedToRef="T" cancelActivity="false" />')
    narrow = _shape("T", 100, 100, 100, 80) + _shape("B", 132, 162, 36, 36)
    [found] = collisions("x.bpmn", _bpmn(elements, narrow))
    assert found.element == "B" and "over the name of task T" in found.message
    wide = _shape("T", 100, 100, 160, 80) + _shape("B", 132, 162, 36, 36)
    assert collisions("x.bpmn", _bpmn(elements, wide)) == []


def test_a_drd_shape_under_the_title_is_found() -> None:
    dmn = ('<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
           'xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" '
           'id="D" name="A long title" namespace="t"><decision id="X" name="X" /><dmndi:DMNDI><dmndi:DMNDiagram>'
           '<dmndi:DMNShape dmnElementRef="X"><dc:Bounds x="{x}" y="{y}" width="180" height="80" /></dmndi:DMNShape>'
           "</dmndi:DMNDiagram></dmndi:DMNDI></definitions>")
    assert [c.element for c in collisions("x.dmn", dmn.format(x=40, y=40))] == ["X"]
    assert collisions("x.dmn", dmn.format(x=40, y=200)) == []
