"""Static analysis of a pathway bundle: what the model reads and writes, and the checks that
refuse (or warn about) a model that cannot mean what it says. See :mod:`.model` for the markers
a clinical lead sets in Camunda Modeler."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..decisions import DecisionRegistry
from ..problems import Problem
from .answers import check_enum_values, check_payloads, check_unread_answers
from .dataflow import Dataflow
from .gateways import check_gateways
from .model import PathwayModel
from .names import check_names, check_values


def analyse(files: Iterable[tuple[str, Any]], decisions: DecisionRegistry,
            broken_decisions: frozenset[str] = frozenset()) -> PathwayModel:
    """The pathway model of parsed BPMN roots ``(filename, lxml root)`` and their decisions."""
    return PathwayModel(files, decisions, broken_decisions)


def check_model(model: PathwayModel) -> list[Problem]:
    """Every finding of the static checks, errors and warnings, one per real problem."""
    flow = Dataflow(model)
    return [
        *check_payloads(model),
        *check_names(model, flow),
        *check_values(model),
        *check_gateways(model, flow),
        *check_unread_answers(model),
        *check_enum_values(model),
    ]


__all__ = ["Dataflow", "PathwayModel", "analyse", "check_model"]
