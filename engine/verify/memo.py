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
        self._timed: dict[str, bool] = {}  # reads the clock (today(), now()): kept per instant
        self._results: dict[tuple, DecisionResult] = {}

    def reads(self, decision: str) -> tuple[str, ...]:
        """The pathway variables the decision (with the decisions it requires) reads; none for a
        decision this bundle does not have."""
        found = self._reads.get(decision)
        if found is None:
            try:
                info = decision_reads(self.registry, self.registry.get(decision))
            except KeyError:
                self._reads[decision], self._timed[decision] = (), False
                return ()
            found = self._reads[decision] = tuple(sorted({path[0] for path in info.paths}))
            self._timed[decision] = any(_reads_clock(d) for d in info.decisions)
        return found

    def instant(self, decision: str, clock: Any) -> Any:
        """The part of the clock the decision depends on: the instant if it calls today() or
        now(), else nothing."""
        self.reads(decision)
        return clock.now() if clock is not None and self._timed[decision] else None

    def key(self, decision: str, values: Mapping[str, Any], clock: Any) -> tuple:
        """What the decision's result depends on: the values of what it reads, and the instant
        for one that reads the clock. Raises TypeError for a value that cannot be a key."""
        key = (decision, self.instant(decision, clock), tuple((n, freeze(values.get(n))) for n in self.reads(decision)))
        hash(key)
        return key

    def __call__(self, decision: str, context: Mapping[str, Any], clock: Any = None) -> DecisionResult:
        try:
            key = self.key(decision, context, clock)
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
