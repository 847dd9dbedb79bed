"""When two explored states are the same: control position plus what later reads can tell apart.

A state is keyed by the active elements of the group's tracks, the live variables projected on
the comparisons the model makes on them (:meth:`.domains.Domains.abstract`), what each decision
still to run would decide on the live data, the order in which the group's timers and the
property deadlines fall (not their distances), and which precedence properties have seen their
required event. Two paths that reach one key have the same future as far as any check can see.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from SpiffWorkflow.util.task import TaskState

from ..analysis.decisioninfo import decision_reads
from ..clock import SimulatedClock
from ..models.bundle import Bundle
from ..runtime import PathwayRuntime
from .domains import Domains
from .events import TaskView
from .liveness import DECISION, Liveness
from .properties import Monitor

_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_MISSING = object()


class StateKeys:
    def __init__(self, bundle: Bundle, domains: Domains, members: set[tuple[str, str]] | None) -> None:
        self.bundle = bundle
        self.model = bundle.model
        self.domains = domains
        self.liveness = Liveness(self.model)
        self.members = members  # the group's elements (None: the whole pathway)
        self.ids = {k[1] for k in members} if members is not None else None
        self._decision_inputs: dict[str, tuple[str, ...]] = {}
        self._results: dict[str, list[str]] = {}
        self._decisions: dict[tuple, Any] = {}

    def key(self, runtime: PathwayRuntime, views: dict[Any, TaskView], monitor: Monitor, now: datetime) -> tuple:
        control = set()
        live: set[str] = set()
        direct: set[str] = set()
        for view in views.values():
            if not view.state & _ACTIVE:
                continue
            # several open instances of one task behave as one (e.g. overdue chases nobody answered)
            control.add((view.process, view.element, view.state))
            model_key = self.liveness.by_id.get((view.file, view.element))
            if model_key is not None and (self.members is None or (view.file, view.element) in self.members):
                live |= self.liveness.live(model_key)
                direct |= self.liveness.live_direct(model_key)
        variables = runtime.data
        today = runtime.clock.today()
        data = []
        for name in sorted(live):
            if name.startswith(DECISION):
                decided = self._decided(name[len(DECISION):], variables, runtime.clock, direct, live)
                if decided is not None:
                    data.append((name, decided))
            elif name in direct and name in variables:
                data.append((name, abstract(self.domains.abstract(name, variables[name]), today, now)))
        # time: the order of what is due (timers, property deadlines), not the distances
        due = [(when, element) for when, element in runtime.pending_timers() if self.ids is None or element in self.ids]
        due += [(when, f"deadline:{prop}") for prop, when in monitor.pending.items()]
        order = tuple(tuple(sorted(e for w, e in due if w == when)) for when in sorted({w for w, _ in due}))
        seen = tuple(sorted(k for k, v in monitor.seen.items() if v))
        return tuple(sorted(control)), tuple(data), order, seen

    def _result_names(self, decision: str) -> list[str]:
        """The variables business rule tasks store this decision's result in."""
        names = self._results.get(decision)
        if names is None:
            names = sorted({e.attr("resultVariable") or decision for e in self.model.elements.values()
                            if e.tag == "businessRuleTask" and e.attr("decisionRef") == decision}) or [decision]
            self._results[decision] = names
        return names

    def _decided(self, decision: str, variables: dict[str, Any], clock: SimulatedClock,
                 direct: set[str], live: set[str]) -> Any:
        """What a decision still to run would decide on the live data as it stands: answers only
        decisions read are kept in the state through those decisions. A decision whose live
        inputs are all in the state already adds nothing (None)."""
        inputs = self._decision_inputs.get(decision)
        if inputs is None:
            try:
                found = decision_reads(self.bundle.decisions, self.bundle.decisions.get(decision))
                inputs = tuple(sorted({path[0] for path in found.paths}))
            except KeyError:
                inputs = ()
            self._decision_inputs[decision] = inputs
        if all(name in direct or name not in live for name in inputs):
            return None
        today = clock.today()
        context = {n: variables.get(n) for n in inputs if n in live}
        cache_key = (decision, today, tuple((n, abstract(v, today, clock.now())) for n, v in context.items()))
        found = self._decisions.get(cache_key, _MISSING)
        if found is _MISSING:
            try:
                result = self.bundle.decisions.evaluate(decision, context, clock=clock)
                # seen as its result variables are read: a list only as "contains X or not" where
                # that is all a condition asks, a number derived from dates by the thresholds tested on it
                found = abstract(tuple(self.domains.abstract(name, result.raw_value)
                                       for name in self._result_names(decision)), today, clock.now())
            except Exception as exc:  # noqa: BLE001 - a decision that cannot run yet is a fact too
                found = ("error", type(exc).__name__)
            self._decisions[cache_key] = found
        return found


def abstract(value: Any, today: date, now: datetime) -> Any:
    """A value as the state key sees it: dates only as before, on or after today (the order of
    events matters, not their distance), numbers as decimals, records and lists item by item."""
    if isinstance(value, datetime):
        return ("at", (value > now) - (value < now))
    if isinstance(value, date):
        return ("day", (value > today) - (value < today))
    if isinstance(value, dict):
        return tuple(sorted((k, abstract(v, today, now)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(abstract(v, today, now) for v in value)
    if isinstance(value, float):
        return Decimal(str(value))
    return value
