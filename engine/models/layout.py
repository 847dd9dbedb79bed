"""Where a diagram's labels would collide when the Modeler draws it, read from BPMNDI/DMNDI.

A collision is a label (an event's, gateway's or flow's name, drawn in its BPMNLabel box) that
overlaps another label, a shape it does not belong to, or a flow (its own element's flows too: a
line through a name is a line through a name; a flow's label may sit on that flow); a
boundary event drawn over the lines of its task's name; in a DRD, a shape under the
definitions' title (dmn-js draws it in the top-left corner of the canvas). Text is measured as
bpmn-js lays it out: 12 px Arial, wrapped to the label box's width (or the task's, less its
padding), about 6.2 px a character and 14.4 px a line; a label box too small for its text is
measured at the size the text needs, since that is what is drawn.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"
DMNDI = "https://www.omg.org/spec/DMN/20191111/DMNDI/"
DMN_DC = "http://www.omg.org/spec/DMN/20180521/DC/"

CHAR_WIDTH, LINE_HEIGHT, TASK_PADDING = 6.2, 14.4, 5.0
# containers: a label or shape inside one is not on top of it
CONTAINERS = {"participant", "lane", "subProcess", "transaction", "adHocSubProcess", "group", "textAnnotation"}
TASKS = {"task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask",
         "receiveTask", "callActivity", "collapsed"}
COLLAPSIBLE = {"subProcess", "transaction", "adHocSubProcess"}
DRD_TITLE = (0.0, 0.0, 320.0, 90.0)  # x, y, width, height of the title box dmn-js draws


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Box, margin: float = 1.0) -> bool:
        return (self.x + margin < other.x + other.w and other.x + margin < self.x + self.w
                and self.y + margin < other.y + other.h and other.y + margin < self.y + self.h)

    def crosses(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        """Does the segment a–b pass through the box (shrunk by 1 px: touching is not crossing)?"""
        x0, y0, x1, y1 = self.x + 1, self.y + 1, self.x + self.w - 1, self.y + self.h - 1
        t0, t1 = 0.0, 1.0
        dx, dy = b[0] - a[0], b[1] - a[1]
        for p, q in ((-dx, a[0] - x0), (dx, x1 - a[0]), (-dy, a[1] - y0), (dy, y1 - a[1])):
            if p == 0:
                if q < 0:
                    return False
                continue
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
        return True


@dataclass(frozen=True)
class Collision:
    file: str
    element: str
    message: str
    kind: str = "label"  # label (over a label, shape or flow) | boundary (over a task's name) | drd

    def __str__(self) -> str:
        return f"{self.file}:{self.element}: {self.message}"


def wrap(text: str, width: float) -> list[int]:
    """The length in characters of each line bpmn-js wraps ``text`` into at ``width`` px (words
    kept whole where they fit, a longer word broken)."""
    per_line = max(1, int(width // CHAR_WIDTH))
    lines: list[int] = []
    current = 0
    for word in text.split():
        size = len(word)
        if current and current + 1 + size <= per_line:
            current += 1 + size
            continue
        if current:
            lines.append(current)
        while size > per_line:
            lines.append(per_line)
            size -= per_line
        current = size
    if current:
        lines.append(current)
    return lines


def text_lines(text: str, width: float) -> int:
    return len(wrap(text, width))


def _line_boxes(text: str, x: float, width: float, top: float) -> list[Box]:
    """Each drawn line of ``text``: centred in ``width`` from ``x``, stacked from ``top``."""
    boxes = []
    for n, chars in enumerate(wrap(text, width)):
        w = min(width, chars * CHAR_WIDTH)
        boxes.append(Box(x + (width - w) / 2, top + n * LINE_HEIGHT, w, LINE_HEIGHT))
    return boxes


def _text_box(lines: list[Box]) -> Box:
    x0, y0 = min(b.x for b in lines), min(b.y for b in lines)
    x1, y1 = max(b.x + b.w for b in lines), max(b.y + b.h for b in lines)
    return Box(x0, y0, x1 - x0, y1 - y0)


def collisions(name: str, text: str) -> list[Collision]:
    root = etree.fromstring(text.encode("utf-8"))
    if etree.QName(root).namespace == DMN:
        return list(_drd(name, root))
    return list(_bpmn(name, root))


def _bounds(node, ns: str) -> Box | None:
    found = node.find(f"{{{ns}}}Bounds")
    if found is None:
        return None
    return Box(*(float(found.get(k)) for k in ("x", "y", "width", "height")))


@dataclass
class Plane:
    """One BPMN plane's geometry: shapes, drawn label boxes and flow waypoints by element id."""

    elements: dict
    node: object = None
    shapes: dict[str, Box] = field(default_factory=dict)
    labels: dict[str, Box] = field(default_factory=dict)
    edges: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)

    def name(self, ref: str) -> str:
        element = self.elements.get(ref)
        return " ".join((element.get("name") or ref).split()) if element is not None else ref

    def hits(self, ref: str, box: Box) -> list[tuple[str, str]]:
        """What the label of ``ref`` drawn in ``box`` would collide with: (what it is, message),
        what it is being ``label:<id>`` for another label, ``shape`` or ``flow``."""
        found = []
        for other, label in sorted(self.labels.items()):
            if other != ref and box.overlaps(label):
                found.append((f"label:{other}",
                              f"label '{self.name(ref)}' overlaps the label of {other} ('{self.name(other)}')"))
        for other, shape in self.shapes.items():
            if other != ref and self.kinds[other] not in CONTAINERS and box.overlaps(shape):
                found.append(("shape", f"label '{self.name(ref)}' lies over {other} ('{self.name(other)}')"))
        for flow, points in self.edges.items():
            # a flow's own label sits on it; a flow from or to the element still crosses its label
            if flow != ref and any(box.crosses(a, b) for a, b in zip(points, points[1:], strict=False)):
                found.append(("flow", f"flow {flow} runs through the label '{self.name(ref)}'"))
        return found


def bpmn_planes(root) -> list[Plane]:
    elements = {e.get("id"): e for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    planes = []
    for node in root.iter(f"{{{BPMNDI}}}BPMNPlane"):
        plane = Plane(elements, node)
        for shape in node.iter(f"{{{BPMNDI}}}BPMNShape"):
            ref = shape.get("bpmnElement")
            element = elements.get(ref)
            box = _bounds(shape, DC)
            if element is None or box is None:
                continue
            kind = etree.QName(element).localname
            if kind in COLLAPSIBLE and shape.get("isExpanded") != "true":
                kind = "collapsed"  # drawn as a task, its name inside: not a container
            plane.kinds[ref] = kind
            plane.shapes[ref] = box
            label = shape.find(f"{{{BPMNDI}}}BPMNLabel")
            if label is not None and (element.get("name") or "").strip() and plane.kinds[ref] not in TASKS | CONTAINERS:
                plane.labels[ref] = label_box(_bounds(label, DC), element.get("name"))
        for edge in node.iter(f"{{{BPMNDI}}}BPMNEdge"):
            ref = edge.get("bpmnElement")
            element = elements.get(ref)
            if element is None:
                continue
            plane.edges[ref] = [(float(w.get("x")), float(w.get("y"))) for w in edge.iter(f"{{{DI}}}waypoint")]
            label = edge.find(f"{{{BPMNDI}}}BPMNLabel")
            if label is not None and (element.get("name") or "").strip() and _bounds(label, DC) is not None:
                plane.labels[ref] = label_box(_bounds(label, DC), element.get("name"))
        planes.append(plane)
    return planes


def _bpmn(file: str, root) -> Iterator[Collision]:
    for plane in bpmn_planes(root):
        names = sorted(plane.labels)
        for ref in names:
            for what, message in plane.hits(ref, plane.labels[ref]):
                if what.startswith("label:") and what.removeprefix("label:") < ref:
                    continue  # two labels over each other: said once, from the first of the two
                yield Collision(file, ref, message)
        yield from _boundary_over_task_names(file, plane)


def label_box(box: Box | None, name: str) -> Box:
    """The box the label's text is drawn in: centred in its DI box's width, from its top."""
    assert box is not None
    return _text_box(_line_boxes(name, box.x, box.w, box.y))


def _boundary_over_task_names(file: str, plane: Plane) -> Iterator[Collision]:
    shapes, kinds = plane.shapes, plane.kinds
    for ref, kind in kinds.items():
        if kind != "boundaryEvent":
            continue
        host = plane.elements[ref].get("attachedToRef")
        if host not in shapes or kinds.get(host) not in TASKS:
            continue
        task = shapes[host]
        name = plane.name(host)
        width = task.w - 2 * TASK_PADDING
        lines = text_lines(name, width)
        top = task.y + (task.h - lines * LINE_HEIGHT) / 2
        icon = shapes[ref]
        # the event's circle: its bounding box less the empty corners
        inner = Box(icon.x + icon.w * 0.15, icon.y + icon.h * 0.15, icon.w * 0.7, icon.h * 0.7)
        if any(inner.overlaps(line) for line in _line_boxes(name, task.x + TASK_PADDING, width, top)):
            yield Collision(file, ref, f"boundary event lies over the name of task {host} ('{name}', "
                                       f"{lines} line{'s' if lines != 1 else ''})", "boundary")


def _drd(file: str, root) -> Iterator[Collision]:
    title = Box(*DRD_TITLE)
    for shape in root.iter(f"{{{DMNDI}}}DMNShape"):
        box = _bounds(shape, DMN_DC)
        ref = shape.get("dmnElementRef")
        if box is not None and box.overlaps(title):
            yield Collision(file, ref or "-", f"shape lies under the diagram's title (top-left "
                                              f"{int(title.w)}×{int(title.h)} px): move it down or right", "drd")
