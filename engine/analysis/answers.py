"""Answers and messages: what a form asks must matter, what a message carries must be declared.

- A form field that no condition, decision input, due date or later default reads is recorded
  and never used: a warning, unless the field is marked ``record`` (kept for the record).
- Two or more values of an enum answer that nothing tells apart lead to the same path: a
  warning naming them (e.g. an outcome the clinician can pick that the pathway ignores).
- Every message catch event declares the variables its message must carry (``payload``).
"""

from __future__ import annotations

from ..problems import Problem
from .model import CAMUNDA, PathwayModel, properties


def _read_roots(model: PathwayModel) -> set[str]:
    return {path[0] for read in model.reads for path in read.paths}


def _task_fields(model: PathwayModel):
    for element in model.elements.values():
        if element.tag == "userTask":
            for field in model.form_fields(element):
                yield element, field


def check_unread_answers(model: PathwayModel) -> list[Problem]:
    read = _read_roots(model)
    problems = []
    for element, field in _task_fields(model):
        fid = field.get("id")
        if not fid or fid in read or properties(field).get("record"):
            continue
        problems.append(Problem(element.file, element.id,
                                    f"answer '{fid}' is recorded and never read by a condition, decision, due date "
                                    f"or later default; use it, or mark it as kept for the record (form field "
                                    f"property record = <why>)", "warning"))
    return problems


def check_enum_values(model: PathwayModel) -> list[Problem]:
    opaque = {path[0] for read in model.reads for path in read.opaque}
    mentioned: dict[str, set[str]] = {}
    for read in model.reads:
        for comparison in read.comparisons:
            if len(comparison.path) == 1 and isinstance(comparison.value, str):
                mentioned.setdefault(comparison.path[0], set()).add(comparison.value)
    read_roots = _read_roots(model)
    problems = []
    for element, field in _task_fields(model):
        fid = field.get("id")
        if field.get("type") != "enum" or fid not in read_roots or fid in opaque or properties(field).get("record"):
            continue
        options = [v.get("id") for v in field.findall(f"{{{CAMUNDA}}}value")]
        ignored = [o for o in options if o not in mentioned.get(fid, set())]
        if 2 <= len(ignored) < len(options):
            problems.append(Problem(element.file, element.id,
                                    f"answer '{fid}': the values {', '.join(ignored)} are never told apart by any "
                                    f"condition or decision, so choosing one or the other leads to the same path",
                                    "warning"))
    return problems


def check_payloads(model: PathwayModel) -> list[Problem]:
    problems = []
    for catcher in model.catchers:
        if catcher.payload is None:
            problems.append(Problem(catcher.element.file, catcher.element.id,
                                    f"message '{catcher.message}' is caught here without a declared payload: add the "
                                    f"extension property 'payload' listing the variables the message must carry "
                                    f"(comma separated, '-' for none), so a correlation without them is refused "
                                    f"instead of the pathway reusing older answers"))
    return problems

