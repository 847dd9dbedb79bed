"""Our DMN 1.1/1.2/1.3 decision engine (FEEL via ``engine.feel``; SpiffWorkflow's DMN is not used).

>>> model = load_dmn(open("risk.dmn", "rb").read(), "risk.dmn")      # doctest: +SKIP
>>> DecisionRegistry([model]).evaluate("Risk", {"age": 70}).to_dict()  # doctest: +SKIP
{'result': 'high', 'matchedRules': ['DecisionRule_1']}
"""

from __future__ import annotations

from .command import run_decide_command
from .dmnxml import load_dmn
from .errors import DecisionError, DecisionInputError, HitPolicyViolation, UnknownDecision
from .jsonvalue import dumps as dumps_json
from .mapping import apply_result_mapping
from .model import (
    Decision,
    DecisionModel,
    DecisionTable,
    InputClause,
    InputData,
    LiteralExpression,
    OutputClause,
    Rule,
)
from .registry import DecisionRegistry, DecisionResult

__all__ = [
    "Decision",
    "DecisionError",
    "DecisionInputError",
    "DecisionModel",
    "DecisionRegistry",
    "DecisionResult",
    "DecisionTable",
    "HitPolicyViolation",
    "InputClause",
    "InputData",
    "LiteralExpression",
    "OutputClause",
    "Rule",
    "UnknownDecision",
    "apply_result_mapping",
    "dumps_json",
    "load_dmn",
    "run_decide_command",
]
