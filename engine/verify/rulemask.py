"""What a decision will decide, summarised before all its inputs are known.

When a decision still to run will combine values the patient has now (an intake answer) with
answers still to come, the state key cannot keep "what it decides": it is not decided yet. It can
keep, instead, *which rules the values known now leave in play*: a rule one of whose known columns
fails can never match, whatever comes later. A rule in play is kept by content (what it still
tests, what it outputs), not by row, so tables whose known values strike out different rows but
leave the same choices merge. Two states that leave the same rules in play (and the same known
values wherever an output, a cell or an input expression combines them with an answer to come, or
a literal expression computes with them) decide the same for every later answer. Required
decisions are decided now when their inputs are all known, else summarised the same way; a cell
that reads an answer still to come counts as possibly matching.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..analysis.decisioninfo import decision_reads
from ..decisions.evaluate import Evaluation, output_variables
from ..decisions.model import Decision, DecisionTable
from ..decisions.registry import DecisionRegistry
from ..decisions.typeref import coerce
from .domains import freeze


def rule_mask(registry: DecisionRegistry, decision_id: str, known: Mapping[str, Any], pending: set[str],
              clock: Any, reads: Callable[[str], Iterable[str]] | None = None) -> tuple | None:
    """Per rule, whether the known inputs leave it able to match (``pending``: names still to be
    written before the decision runs); a required decision whose inputs are all known is decided
    now, one still waiting is summarised the same way. None when a table cannot be summarised.
    ``reads``: what a decision (by id) reads, e.g. a caller's cache of it."""
    if reads is None:
        def reads(decision: str) -> set[str]:
            return {path[0] for path in decision_reads(registry, registry.get(decision)).paths}
    return _mask(registry, registry.get(decision_id), dict(known), set(pending), clock, set(), reads)


def _mask(registry: DecisionRegistry, decision: Decision, known: dict[str, Any], pending: set[str], clock: Any,
          seen: set[str], reads_of: Callable[[str], Iterable[str]]) -> tuple | None:
    if decision.id in seen:
        return None
    seen = seen | {decision.id}
    base = registry.input_context(known)
    required: dict[str, Any] = {}
    parts: list[Any] = []
    pending = set(pending)
    for requirement in decision.required_decisions:
        target = registry.resolve(decision, requirement)
        reads = set(reads_of(target.id))
        provided = {target.id, target.name, target.variable_name, *target.output_names()}
        if reads & pending:
            inner = _mask(registry, target, known, pending, clock, seen, reads_of)
            if inner is None:
                return None
            parts.append((target.id, inner))
            pending |= provided
            continue
        try:
            outcome = Evaluation(base, registry.resolve, clock).run(target)
        except Exception as exc:  # noqa: BLE001 - the decision will fail whatever comes: a fact too
            return ("error", type(exc).__name__)
        required.update(output_variables(target, outcome))
        required[target.id] = required[target.name] = outcome.value
    context = ChainMap(required, base)
    table = decision.logic
    if not isinstance(table, DecisionTable):
        # a literal expression: what it reads that is known now, with what its requirements leave open
        names = table.expression.names() - pending
        return ("literal", tuple(parts), _values(context, names))
    columns: list[tuple[int, Any, Mapping[str, Any]]] = []
    waiting: list[tuple[int, tuple]] = []  # columns whose value waits for an answer still to come
    for index, clause in enumerate(table.inputs):
        if clause.expression.names() & pending:
            # with what it combines with that answer, which is known now and tells states apart
            waiting.append((index, _values(context, clause.expression.names() - pending)))
            continue
        try:
            value = coerce(clause.expression.evaluate(context, clock=clock), clause.type_ref)
        except Exception as exc:  # noqa: BLE001
            return ("error", type(exc).__name__)
        columns.append((index, value, ChainMap({clause.input_variable: value}, context)))
    in_play = []
    read_by_cells: set[str] = set()
    for rule in table.rules:
        alive = True
        open_cells: dict[int, Any] = {index: _open_cell(rule.inputs[index], context, pending) for index, _ in waiting}
        for index, value, cell in columns:
            tests = rule.inputs[index].tests
            if tests is None:
                continue
            if tests.names() & pending:
                # it can go either way: it tests this known value against an answer to come
                open_cells[index] = (rule.inputs[index].text, freeze(value),
                                     _values(context, tests.names() - pending))
                continue
            try:
                if not tests.matches(value, context=cell, clock=clock):
                    alive = False
                    break
            except Exception as exc:  # noqa: BLE001
                return ("error", type(exc).__name__)
        if alive:
            # a rule in play is kept as what it still tests and what it gives, not as its row: two
            # tables of known values that leave the same tests and outputs decide the same
            in_play.append((tuple(sorted(open_cells.items())), tuple(e.text for e in rule.outputs)))
            read_by_cells |= {n for e in rule.outputs if e.expression is not None for n in e.expression.names()}
    # outputs computed from known values (e.g. the first agent not excluded) keep those values
    return ("table", table.hit_policy, table.aggregation, tuple(parts), tuple(waiting), tuple(in_play),
            _values(context, read_by_cells - pending))


def _open_cell(entry: Any, context: Mapping[str, Any], pending: set[str]) -> Any:
    """A cell on a column still to come: its text, with the known values its test compares with."""
    names = entry.tests.names() - pending if entry.tests is not None else set()
    return (entry.text, _values(context, names)) if names else entry.text


def _values(context: Mapping[str, Any], names: set[str]) -> tuple:
    return tuple((name, freeze(context.get(name))) for name in sorted(names))

