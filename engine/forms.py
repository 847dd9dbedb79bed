"""Validate submitted task data against a Camunda form's field types and constraints.

SpiffWorkflow stores ``camunda:formData`` constraints but never enforces them. We do, before any
state changes, and report every problem per field so the API can answer 422 with details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class FormValidationError(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


RESERVED_KEY = "typename"


# Technical bounds on what a pathway stores (no form, message or start asks for more): a value
# nested deeper than the serializer and the FEEL evaluator can walk would save a pathway that can
# never be loaded again.
MAX_DEPTH = 32
MAX_VALUES = 10_000
MAX_TEXT = 100_000


def check_plain_data(values: Any, path: str = "") -> None:
    """Refuse data that the workflow could not keep as given: a dict with SpiffWorkflow's
    ``typename`` key (its serializer would read it back as one of its own objects), nesting
    deeper than :data:`MAX_DEPTH`, more than :data:`MAX_VALUES` values, or a text longer than
    :data:`MAX_TEXT` characters. Walked without recursion, so no input can exhaust the stack."""
    errors: list[FieldError] = []
    todo: list[tuple[Any, str, int]] = [(values, path, 0)]
    count = 0
    while todo and len(errors) < 20:
        value, where, depth = todo.pop()
        count += 1
        if count > MAX_VALUES:
            errors.append(FieldError(path or "variables", "too-large", f"holds more than {MAX_VALUES} values"))
            break
        if isinstance(value, dict | list) and depth >= MAX_DEPTH:
            errors.append(FieldError(where or "variables", "too-deep", f"is nested more than {MAX_DEPTH} levels deep"))
            continue
        if isinstance(value, str) and len(value) > MAX_TEXT:
            errors.append(FieldError(where, "too-long", f"is longer than {MAX_TEXT} characters"))
        elif isinstance(value, dict):
            for key, item in value.items():
                here = f"{where}.{key}" if where else str(key)
                if key == RESERVED_KEY:
                    errors.append(FieldError(here, "reserved", f"'{RESERVED_KEY}' is a reserved key"))
                todo.append((item, here, depth + 1))
        elif isinstance(value, list):
            todo.extend((item, f"{where}[{index}]", depth + 1) for index, item in enumerate(value))
    if errors:
        raise FormValidationError(errors)


def validate_submission(form: dict[str, Any] | None, submitted: dict[str, Any], *,
                        allow_unknown: bool = False) -> dict[str, Any]:
    """Return the submitted values coerced to their field types, or raise FormValidationError.

    ``allow_unknown`` passes undeclared values through unchanged (start variables: the start
    form types what it declares, other context may come along).
    """
    if not isinstance(submitted, dict):
        raise FormValidationError([FieldError("variables", "type", "must be an object")])
    check_plain_data(submitted)
    fields = {f["id"]: f for f in (form or {}).get("fields", [])}
    errors: list[FieldError] = []
    for name in submitted:
        if name not in fields and not allow_unknown:
            known = ", ".join(sorted(fields)) or "none"
            errors.append(FieldError(name, "unknown", f"is not a field of this task's form (fields: {known})"))
    values: dict[str, Any] = {k: v for k, v in submitted.items() if k not in fields} if allow_unknown else {}
    for name, spec in fields.items():
        constraints = spec.get("constraints") or {}
        if submitted.get(name) in (None, "") and spec.get("default") is not None:
            # What a generated form pre-fills; a client that leaves the field out accepts it.
            submitted = {**submitted, name: _typed_default(spec)}
        present = name in submitted and submitted[name] not in (None, "")
        if not present:
            if "required" in constraints:
                errors.append(FieldError(name, "required", f"'{spec.get('label') or name}' is required"))
            elif name in submitted:
                values[name] = None
            continue
        if "readonly" in constraints:
            errors.append(FieldError(name, "readonly", "is read-only"))
            continue
        try:
            value = _coerce(spec, submitted[name])
        except ValueError as exc:
            errors.append(FieldError(name, "type", str(exc)))
            continue
        errors.extend(_check_constraints(name, spec, constraints, value))
        values[name] = value
    if errors:
        raise FormValidationError(errors)
    return values


def _typed_default(spec: dict[str, Any]) -> Any:
    """A literal ``defaultValue`` is text in the XML; read it as the field's type."""
    value, kind = spec["default"], spec.get("type")
    if not isinstance(value, str):
        return value
    try:
        if kind == "long":
            return int(value)
        if kind == "double":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _coerce(spec: dict[str, Any], raw: Any) -> Any:
    kind = spec.get("type") or "string"
    if kind == "string":
        if not isinstance(raw, str):
            raise ValueError("must be a string")
        return raw
    if kind == "boolean":
        if not isinstance(raw, bool):
            raise ValueError("must be true or false")
        return raw
    if kind == "long":
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError("must be a whole number")
        if isinstance(raw, float) and not (raw.is_integer()):
            raise ValueError("must be a whole number")
        return int(raw)
    if kind == "double":
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValueError("must be a number")
        try:
            number = Decimal(str(raw))
        except InvalidOperation:
            raise ValueError("must be a number") from None
        if not number.is_finite():
            raise ValueError("must be a finite number")
        return number
    if kind == "date":
        if isinstance(raw, date):  # already typed (an API client's ISO text read as a date)
            return raw.date() if isinstance(raw, datetime) else raw
        if not isinstance(raw, str):
            raise ValueError("must be a date as YYYY-MM-DD")
        try:
            # A date, or a date-time whose date part is taken (what a date picker may send).
            return date.fromisoformat(raw) if len(raw) == 10 else datetime.fromisoformat(raw).date()
        except ValueError:
            raise ValueError("must be a date as YYYY-MM-DD") from None
    if kind == "enum":
        options = [o["id"] for o in spec.get("options", [])]
        if raw not in options:
            raise ValueError(f"must be one of: {', '.join(options)}")
        return raw
    raise ValueError(f"has unsupported type '{kind}'")


def _check_constraints(name: str, spec: dict[str, Any], constraints: dict[str, Any], value: Any) -> list[FieldError]:
    errors = []
    kind = spec.get("type") or "string"
    if kind in ("long", "double"):
        if constraints.get("min") is not None and Decimal(str(value)) < Decimal(constraints["min"]):
            errors.append(FieldError(name, "min", f"must be at least {constraints['min']}"))
        if constraints.get("max") is not None and Decimal(str(value)) > Decimal(constraints["max"]):
            errors.append(FieldError(name, "max", f"must be at most {constraints['max']}"))
    if kind == "string":
        if constraints.get("minlength") is not None and len(value) < int(constraints["minlength"]):
            errors.append(FieldError(name, "minlength", f"must be at least {constraints['minlength']} characters"))
        if constraints.get("maxlength") is not None and len(value) > int(constraints["maxlength"]):
            errors.append(FieldError(name, "maxlength", f"must be at most {constraints['maxlength']} characters"))
    return errors


def with_defaults(form: dict[str, Any] | None, defaults: dict[str, Any]) -> dict[str, Any] | None:
    """The form as the worklist shows it and as a submission is validated against: each field
    carries its evaluated default (numbers as JSON numbers)."""
    if not form or not defaults:
        return form
    fields = [{**f, "default": _json_number(defaults[f["id"]])} if f.get("id") in defaults else f
              for f in form["fields"]]
    return {**form, "fields": fields}


def json_ready(values: dict[str, Any]) -> dict[str, Any]:
    """Typed values (evaluated defaults, answers) as a JSON column keeps them: exact decimals as
    JSON numbers, dates and times as ISO text."""
    return {name: _json_value(value) for name, value in values.items()}


def _json_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _json_number(value)
    if isinstance(value, date | time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value
