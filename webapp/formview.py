"""A task's BPMN form as HTML controls, and a posted HTML form back as the typed answers the
service validates.

A yes/no field is two radio buttons, never a checkbox: "required" must mean "answered", and a
checkbox can only be required by ticking it (which made every red flag "present"). Nothing is
pre-selected unless the model gives a default, so an unanswered question stays visibly open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

_WHOLE = re.compile(r"[+-]?\d+")


@dataclass
class Control:
    id: str
    label: str
    kind: str  # "yesno", "choice", "date", "number", "text", "longtext"
    required: bool
    value: str = ""  # what the control shows: the submitted text, else the default
    options: list[tuple[str, str]] = field(default_factory=list)
    minimum: str | None = None
    maximum: str | None = None
    step: str | None = None
    maxlength: int | None = None
    readonly: bool = False
    error: str | None = None

    @property
    def hint(self) -> str:
        """What the control accepts, said in words (screen readers read it with the label)."""
        parts = []
        if self.minimum is not None and self.maximum is not None:
            parts.append(f"from {self.minimum} to {self.maximum}")
        elif self.minimum is not None:
            parts.append(f"at least {self.minimum}")
        elif self.maximum is not None:
            parts.append(f"at most {self.maximum}")
        if self.kind == "number" and self.step == "1":
            parts.append("whole number")
        if self.maxlength:
            parts.append(f"up to {self.maxlength} characters")
        return ", ".join(parts)


def controls(form: dict[str, Any] | None, submitted: MultiDict | None = None,
             errors: dict[str, str] | None = None) -> list[Control]:
    found = []
    for spec in (form or {}).get("fields", []):
        constraints = spec.get("constraints") or {}
        kind = spec.get("type") or "string"
        default = spec.get("default")  # the evaluated defaultValue (never the expression text)
        value = submitted.get(spec["id"], "") if submitted is not None else _shown(default)
        control = Control(spec["id"], spec.get("label") or spec["id"], _KINDS.get(kind, "text"),
                          bool(spec.get("required") or "required" in constraints), value,
                          readonly="readonly" in constraints, error=(errors or {}).get(spec["id"]))
        if kind == "enum":
            control.options = [(o["id"], o.get("name") or o["id"]) for o in spec.get("options", [])]
        if kind in ("long", "double"):
            control.minimum, control.maximum = constraints.get("min"), constraints.get("max")
            control.step = "1" if kind == "long" else "any"
        if kind == "string" and constraints.get("maxlength"):
            control.maxlength = int(constraints["maxlength"])
            control.kind = "text" if control.maxlength <= 120 else "longtext"
        found.append(control)
    return found


_KINDS = {"boolean": "yesno", "enum": "choice", "date": "date", "long": "number", "double": "number",
          "string": "text"}


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def answers(form: dict[str, Any] | None, posted: MultiDict) -> dict[str, Any]:
    """The posted values typed as the API takes them (an empty control is no answer). A value
    that does not parse is passed on as text, so the service's validation names the field."""
    values: dict[str, Any] = {}
    for spec in (form or {}).get("fields", []):
        if "readonly" in (spec.get("constraints") or {}):
            continue
        raw = posted.get(spec["id"], "").strip()
        if raw == "":
            continue
        kind = spec.get("type") or "string"
        if kind == "boolean":
            values[spec["id"]] = {"true": True, "false": False}.get(raw, raw)
        elif kind == "long":
            values[spec["id"]] = int(raw) if _WHOLE.fullmatch(raw) else raw
        else:
            values[spec["id"]] = raw  # text, a choice's id, a YYYY-MM-DD date, a decimal as text
    return values
