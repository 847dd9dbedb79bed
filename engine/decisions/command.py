"""``pathway decide FILE.dmn ... --decision ID_OR_NAME --input JSON`` without the click wrapper."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.problems import ModelError, Problem

from .dmnxml import load_dmn
from .errors import DecisionError, DecisionInputError, HitPolicyViolation, UnknownDecision
from .jsonvalue import dumps
from .registry import DecisionRegistry

EXIT_OK = 0
EXIT_ERROR = 2


def run_decide_command(files: list[str], decision: str, input_json: str, clock: Any = None) -> tuple[int, str]:
    """Load ``files``, evaluate ``decision`` for the JSON object ``input_json``.

    Returns ``(0, '{"result": R, "matchedRules": [...]}')`` or ``(2, message)`` for a model error,
    bad input JSON, an input that does not fit its typeRef, an unknown decision or a hit-policy
    violation.
    """
    problems: list[Problem] = []
    registry = DecisionRegistry()
    if not files:
        return EXIT_ERROR, "error: no DMN file given"
    for name in files:
        try:
            source = Path(name).read_bytes()
        except OSError as error:
            problems.append(Problem(name, "", f"cannot read file: {error.strerror or error}"))
            continue
        try:
            registry.add(load_dmn(source, name))
        except ModelError as error:
            problems.extend(error.problems)
    if not problems:
        problems.extend(registry.validate())
    if problems:
        return EXIT_ERROR, _model_error(problems)

    try:
        inputs = json.loads(input_json or "{}", parse_float=Decimal)
    except (json.JSONDecodeError, TypeError) as error:
        return EXIT_ERROR, f"error: --input is not valid JSON: {error}"
    if not isinstance(inputs, dict):
        return EXIT_ERROR, f"error: --input must be a JSON object keyed by input name, got {_json_kind(inputs)}"

    try:
        result = registry.evaluate(decision, inputs, clock=clock)
    except UnknownDecision as error:
        return EXIT_ERROR, f"error: {error}"
    except HitPolicyViolation as error:
        return EXIT_ERROR, f"error: {error}"
    except DecisionInputError as error:
        return EXIT_ERROR, f"error: invalid input: {error}"
    except DecisionError as error:
        return EXIT_ERROR, f"error: decision failed: {error}"
    except ModelError as error:
        return EXIT_ERROR, _model_error(error.problems)
    return EXIT_OK, dumps(result.to_dict())


def _model_error(problems: list[Problem]) -> str:
    lines = [f"error: model error ({len(problems)} problem{'s' if len(problems) != 1 else ''}):"]
    lines.extend(f"  {problem}" for problem in problems)
    return "\n".join(lines)


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
