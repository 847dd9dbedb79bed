"""Move colliding labels of BPMN diagrams to free places, and widen tasks whose names run under
their boundary events (a layout aid for the bundled diagrams; the Modeler does the same by hand).

    .venv/bin/python scripts/relabel.py pathways/*.bpmn

Each label that ``engine.models.layout`` finds in a collision is tried below, above, right and
left of its element (of its flow's longest segment for a flow label), then further out, and put
at the first place that collides with nothing. A task whose name a boundary event covers is made
wider, about its centre, and the flows ending on its left or right side follow. Only DI changes,
so the file's meaning (and its version identity) stays the same. Run ``pathway lint`` and
``node tools/modeler-check/check.mjs`` afterwards: a widened task may now touch a neighbour.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.models import layout  # noqa: E402
from engine.models.layout import BPMNDI, DC, DI, Box  # noqa: E402

GAPS = (4, 10, 18, 28, 40, 55, 75, 100, 130)
SLIDES = (0, -15, 15, -30, 30, -50, 50)


def main(paths: list[str]) -> int:
    for name in paths:
        path = Path(name)
        text = _unbreak_words(path.read_text(encoding="utf-8"))
        for _ in range(6):  # each pass can only make room; stop when nothing is left to move
            before = layout.collisions(path.name, text)
            if not before:
                break
            text = _fix(path.name, text, before)
        left = layout.collisions(path.name, text)
        path.write_text(text, encoding="utf-8")
        print(f"{name}: {len(left)} collision(s) left", *[f"  {c}" for c in left], sep="\n")
    return 0


def _unbreak_words(text: str) -> str:
    """Widen (about its centre) each label box too narrow for its longest word: bpmn-js would
    break the word ("Overdu/e")."""
    root = etree.fromstring(text.encode("utf-8"))
    elements = {e.get("id"): e for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    changed = False
    for owner in root.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge"):
        bounds = owner.find(f"{{{BPMNDI}}}BPMNLabel/{{{DC}}}Bounds")
        element = elements.get(owner.get("bpmnElement"))
        name = element.get("name") if bounds is not None and element is not None else None
        if not name:
            continue
        need = max(len(word) for word in name.split()) * layout.CHAR_WIDTH + 4
        width = float(bounds.get("width"))
        if need > width:
            bounds.set("x", str(round(float(bounds.get("x")) - (need - width) / 2)))
            bounds.set("width", str(round(need)))
            bounds.set("height", str(round(len(layout.wrap(name, round(need))) * layout.LINE_HEIGHT)))
            changed = True
    return _serialise(root) if changed else text


def _fix(file: str, text: str, found: list[layout.Collision]) -> str:
    root = etree.fromstring(text.encode("utf-8"))
    elements = {e.get("id"): e for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    di = {d.get("bpmnElement"): d for d in root.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge")}
    for collision in found:
        if collision.kind == "boundary":
            _widen(root, di, elements[collision.element].get("attachedToRef"))
    for plane in layout.bpmn_planes(root):
        _place_labels(plane)
    return _serialise(root)


def _place_labels(plane: layout.Plane) -> None:
    """Move each colliding label of a plane to the nearest free place (growing a long label's
    box when no place fits it), a few rounds, since a move can free a neighbour's place."""
    di = {d.get("bpmnElement"): d for d in plane.node.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge")}
    for _ in range(3):
        moved = False
        for ref in sorted(plane.labels):
            if not plane.hits(ref, plane.labels[ref]):
                continue
            bounds = di[ref].find(f"{{{BPMNDI}}}BPMNLabel/{{{DC}}}Bounds")
            name = plane.elements[ref].get("name") or ""
            found = None
            for width in dict.fromkeys((float(bounds.get("width")), 160.0, 220.0)):
                for x, y in _candidates(di[ref], width, name):
                    box = layout.label_box(Box(x, y, width, 0), name)
                    if not plane.hits(ref, box):
                        found = (x, y, width, box)
                        break
                if found:
                    break
            if found is None:
                continue
            x, y, width, box = found
            height = len(layout.wrap(name, width)) * layout.LINE_HEIGHT
            for key, value in (("x", x), ("y", y), ("width", width), ("height", height)):
                bounds.set(key, str(round(value)))
            plane.labels[ref] = layout.label_box(_box(bounds), name)
            moved = True
        if not moved:
            return


def _candidates(owner, width: float, name: str):
    """DI label positions around the element (a flow's segments), nearest first."""
    lines = layout.wrap(name, width)
    tw = min(width, max(lines) * layout.CHAR_WIDTH)
    th = len(lines) * layout.LINE_HEIGHT
    if owner.tag == f"{{{BPMNDI}}}BPMNShape":
        anchors = [_box(owner.find(f"{{{DC}}}Bounds"))]
    else:
        points = [(float(w.get("x")), float(w.get("y"))) for w in owner.iter(f"{{{DI}}}waypoint")]
        anchors = [Box((a[0] + b[0]) / 2 - 1, (a[1] + b[1]) / 2 - 1, 2, 2)
                   for a, b in zip(points, points[1:], strict=False)]
    found = []
    for box in anchors:
        cx, cy = box.x + box.w / 2, box.y + box.h / 2
        spots = []
        for gap in GAPS:
            for slide in SLIDES:
                spots += [(cx - tw / 2 + slide, box.y + box.h + gap),  # below
                          (cx - tw / 2 + slide, box.y - gap - th),  # above
                          (box.x + box.w + gap, cy - th / 2 + slide),  # right
                          (box.x - gap - tw, cy - th / 2 + slide)]  # left
            spots += [(box.x + box.w + gap, box.y + box.h + gap), (box.x - gap - tw, box.y + box.h + gap),
                      (box.x + box.w + gap, box.y - gap - th), (box.x - gap - tw, box.y - gap - th)]
        found += [((x + tw / 2 - cx) ** 2 + (y + th / 2 - cy) ** 2, x, y) for x, y in spots]
    inset = (width - tw) / 2  # the text is centred in the label box
    return [(x - inset, y) for _, x, y in sorted(found)]


def _widen(root, di, task_id: str) -> None:
    """Widen a task by 30 px (about its centre, else to the right, else to the left, whichever
    touches no other shape of its plane); flows of that plane ending on its sides follow."""
    shape = di.get(task_id)
    if shape is None:
        return
    plane = shape.getparent()
    bounds = shape.find(f"{{{DC}}}Bounds")
    old = _box(bounds)
    others = [_box(b) for s in plane.iter(f"{{{BPMNDI}}}BPMNShape") if s is not shape
              and (b := s.find(f"{{{DC}}}Bounds")) is not None
              and not _inside(old, _box(b)) and not _inside(_box(b), old)]
    grow = 30.0
    for shift in (grow / 2, 0.0, grow):  # how much of the growth goes to the left
        wider = Box(old.x - shift, old.y, old.w + grow, old.h)
        if not any(wider.overlaps(o) for o in others if not old.overlaps(o)):
            left, right = shift, grow - shift
            break
    else:
        return
    bounds.set("x", str(round(wider.x)))
    bounds.set("width", str(round(wider.w)))
    for edge in plane.iter(f"{{{BPMNDI}}}BPMNEdge"):
        points = list(edge.iter(f"{{{DI}}}waypoint"))
        for point in (points[0], points[-1]) if points else ():
            x, y = float(point.get("x")), float(point.get("y"))
            if not old.y - 5 <= y <= old.y + old.h + 5:
                continue
            if abs(x - old.x) <= 5:
                point.set("x", str(round(x - left)))
            elif abs(x - (old.x + old.w)) <= 5:
                point.set("x", str(round(x + right)))


def _inside(inner: Box, outer: Box) -> bool:
    return (outer.x <= inner.x and outer.y <= inner.y and inner.x + inner.w <= outer.x + outer.w
            and inner.y + inner.h <= outer.y + outer.h)


def _box(bounds) -> Box:
    return Box(*(float(bounds.get(k)) for k in ("x", "y", "width", "height")))


def _serialise(root) -> str:
    # the Modeler's spacing for empty elements, so that a diff shows only what moved
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")
    return re.sub(r'"/>', '" />', text).replace("<?xml version='1.0' encoding='UTF-8'?>",
                                               '<?xml version="1.0" encoding="UTF-8"?>') + "\n"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
