"""Evaluate a decision (with its trace) as a deployed definition version has it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from engine.decisions import DecisionError, DecisionInputError, HitPolicyViolation
from engine.decisions.jsonvalue import json_friendly
from engine.service import Service

from .auth import READERS
from .openapi import endpoint
from .problems import ApiProblem
from .schemas import EvaluateIn, EvaluateOut, EvaluateQuery
from .state import service

bp = Blueprint("decisions", __name__, url_prefix="/api/decisions")


def evaluate_decision(svc: Service, decision_id: str, inputs: dict[str, Any], *, definition: str | None = None,
                      version: int | None = None) -> dict[str, Any]:
    """The decision as the chosen definition version has it (the latest by default)."""
    try:
        result, found = svc.evaluate_decision(decision_id, inputs, definition=definition, version=version)
    except HitPolicyViolation as exc:
        raise ApiProblem(422, str(exc), kind="hit-policy-violation", ruleIds=exc.rule_ids) from exc
    except DecisionInputError as exc:
        raise ApiProblem(422, str(exc), kind="invalid-input") from exc
    except (DecisionError, ValueError, TypeError, ArithmeticError) as exc:
        raise ApiProblem(422, f"the decision could not be evaluated: {exc}", kind="decision-error") from exc
    return {**result.to_dict(), "trace": json_friendly(result.trace), "definition": found}


@bp.post("/<decision_id>/evaluate")
@endpoint(roles=READERS, tags=("decisions",), json=EvaluateIn, query=EvaluateQuery, ok={"HTTP_200": EvaluateOut},
          errors=(404, 415))
def evaluate(decision_id: str, json: EvaluateIn, query: EvaluateQuery) -> dict[str, Any]:
    """The DMN result, the matched rule ids and the trace (inputs, matches, outputs per decision),
    as version ``version`` of pathway ``definition`` has the decision (both optional: the latest
    version of the one pathway that defines it)."""
    return evaluate_decision(service(), decision_id, json.inputs, definition=query.definition, version=query.version)
