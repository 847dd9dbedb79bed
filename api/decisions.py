"""Evaluate a decision (with its trace) against the latest deployed definition that contains it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import select

from engine.decisions import DecisionError, DecisionInputError, HitPolicyViolation, UnknownDecision
from engine.decisions.jsonvalue import json_friendly
from engine.service import Service
from engine.store import Definition

from .auth import READERS
from .openapi import endpoint
from .problems import ApiProblem
from .schemas import EvaluateIn, EvaluateOut
from .state import service

bp = Blueprint("decisions", __name__, url_prefix="/api/decisions")


def evaluate_latest(svc: Service, decision_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Newest definition first; the first one whose DMN files define ``decision_id`` answers."""
    ctx = svc.ctx
    with ctx.read() as session:
        rows = list(session.scalars(select(Definition).order_by(Definition.created_at.desc(),
                                                                Definition.id.desc())))
        for row in rows:
            bundle = ctx.bundle_for(row)
            try:
                bundle.decisions.get(decision_id)
            except UnknownDecision:
                continue
            try:
                result = bundle.decisions.evaluate(decision_id, inputs, ctx.clock)
            except HitPolicyViolation as exc:
                raise ApiProblem(422, str(exc), kind="hit-policy-violation", ruleIds=exc.rule_ids) from exc
            except DecisionInputError as exc:
                raise ApiProblem(422, str(exc), kind="invalid-input") from exc
            except (DecisionError, ValueError, TypeError, ArithmeticError) as exc:
                raise ApiProblem(422, f"the decision could not be evaluated: {exc}",
                                 kind="decision-error") from exc
            return {**result.to_dict(), "trace": json_friendly(result.trace),
                    "definition": {"key": row.key, "version": row.version}}
    raise ApiProblem(404, f"no deployed definition contains decision '{decision_id}'")


@bp.post("/<decision_id>/evaluate")
@endpoint(roles=READERS, tags=("decisions",), json=EvaluateIn, ok={"HTTP_200": EvaluateOut},
          errors=(404, 415))
def evaluate(decision_id: str, json: EvaluateIn) -> dict[str, Any]:
    """The DMN result, the matched rule ids and the trace (inputs, matches, outputs per decision)."""
    return evaluate_latest(service(), decision_id, json.inputs)
