"""Decisions evaluated once per distinct input while exploring.

The explorer runs the same pathway from thousands of states, and the engine evaluates the same
decision on the same inputs again and again (in the bone-therapy track, most of an engine step).
A decision is a pure function of what it reads and, if it calls ``today()`` or ``now()``, of the
clock, so its result is kept per decision and per value of each name it reads (and per instant,
for those that read the clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..analysis.decisioninfo import decision_reads
from ..decisions.model import Decision, LiteralExpression
from ..decisions.registry import DecisionRegistry, DecisionResult
from .domains import freeze

_MAX_ENTRIES = 200_000


class DecisionMemo:
    def __init__(self, registry: DecisionRegistry) -> None:
        self.registry = registry
        self._reads: dict[str, tuple[str, ...]] = {}
        self._results: dict[tuple, DecisionResult] = {}
        self._timed: dict[str, bool] = {}  # reads the clock (today(), now()): kept per instant

    def __call__(self, decision: str, context: Mapping[str, Any], clock: Any = None) -> DecisionResult:
        reads = self._reads.get(decision)
        if reads is None:
            found = decision_reads(self.registry, self.registry.get(decision))
            reads = self._reads[decision] = tuple(sorted({path[0] for path in found.paths}))
            self._timed[decision] = any(_reads_clock(d) for d in found.decisions)
        try:
            key = (decision, clock.now() if clock is not None and self._timed[decision] else None,
                   tuple((name, freeze(context.get(name))) for name in reads))
            hash(key)
        except TypeError:  # a value that cannot be a key: evaluate it as it comes
            return self.registry.evaluate(decision, context, clock=clock)
        result = self._results.get(key)
        if result is None:
            result = self.registry.evaluate(decision, context, clock=clock)
            if len(self._results) < _MAX_ENTRIES:
                self._results[key] = result
        return result


def _reads_clock(decision: Decision) -> bool:
    logic = decision.logic
    if isinstance(logic, LiteralExpression):
        texts = [logic.text]
    else:
        texts = [c.expression_text for c in logic.inputs]
        texts += [e.text for rule in logic.rules for e in (*rule.inputs, *rule.outputs)]
    return any("today(" in (t or "") or "now(" in (t or "") for t in texts)
