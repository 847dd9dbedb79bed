"""When two explored states are the same: control position plus what later reads can tell apart.

A state is keyed by the active elements of the group's tracks; the live variables, each as the
comparisons the model makes on it (:meth:`.domains.Domains.abstract`) and dates as their
distance from today, except where a decision still to run (and not reading the clock) summarises
them better: by what it would decide, when nothing may write its inputs before it runs, else by
the rules today's values leave in play (:mod:`.rulemask`); how far off each of the group's timers
and each property deadline is; and which precedence properties have seen their required event. Two paths that reach one key have the same
future as far as any check can see.
"""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from SpiffWorkflow.util.task import TaskState

from ..clock import SimulatedClock
from ..models.bundle import Bundle
from ..runtime import PathwayRuntime
from .domains import Domains, freeze
from .events import TaskView
from .liveness import DECISION, Liveness
from .memo import DecisionMemo
from .properties import Monitor
from .rulemask import rule_mask

_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_MISSING = object()
_CONTAINERS = ("subProcess", "callActivity", "transaction")
_MAX_SIGNATURE = 64  # evaluations of one decision to summarise what it will decide
_MAX_OUTCOMES = 100_000
_MAX_UNCERTAIN = 5  # inputs that may or may not be asked again before a decision: 2**n summaries


class StateKeys:
    def __init__(self, bundle: Bundle, domains: Domains, members: set[tuple[str, str]] | None,
                 always: set[str] = frozenset(), memo: DecisionMemo | None = None,
                 inert: set[tuple[str, str]] = frozenset(), placed: dict[Any, set[str]] | None = None) -> None:
        self.bundle = bundle
        self.model = bundle.model
        self.domains = domains
        self.memo = memo or DecisionMemo(bundle.decisions)  # decisions evaluated (and read) once
        # what the properties read at an element (placed) is live where that element may still come
        self.placed = placed or {}
        self.liveness = Liveness(self.model, extra=self.placed)
        # the key leaves out what only interrupting event sub-processes read: the explorer starts
        # each of those once per value of what it reads (see Explorer._interruptions)
        self.track_liveness = Liveness(self.model, interrupting=False, extra=self.placed)
        self.members = members  # the group's elements (None: the whole pathway)
        self.ids = {k[1] for k in members} if members is not None else None
        self.always = frozenset(always)  # names kept in every state (what properties read at no one element)
        self._results: dict[str, list[str]] = {}
        self._outcomes: dict[int, tuple] = {}  # id(result) -> (result, today, now, as the key sees it)
        self._masks: dict[tuple, tuple | None] = {}
        self._signatures: dict[tuple, tuple | None] = {}
        self._plans: dict[tuple, tuple] = {}
        self.inert = inert  # chases nothing reads (escalation.inert_branches): not in the key

    def key(self, runtime: PathwayRuntime, views: dict[Any, TaskView], monitor: Monitor, now: datetime) -> tuple:
        control = set()
        positions: list[Any] = []
        for view in views.values():
            if not view.state & _ACTIVE:
                continue
            if self.members is not None and (view.file, view.element) not in self.members:
                continue  # another group's track: nothing here can tell its positions apart
            if (view.file, view.element) in self.inert:
                continue  # a chase nothing reads: open or done, the future is the same
            # several open instances of one task behave as one (e.g. overdue chases nobody answered)
            control.add((view.process, view.element, view.state))
            model_key = self.liveness.by_id.get((view.file, view.element))
            if model_key is not None and not self._container(model_key, view.state):
                positions.append((model_key, False))
        data = self._project(self.track_liveness, positions, runtime.data, None, runtime.clock)
        # time: how long until each thing is due (timers, property deadlines). Their order alone
        # is not enough: a timer set later, at a fixed distance from its own start, falls before
        # or after one already pending according to how far off that one is.
        due = [(when - now, element) for when, element in runtime.pending_timers()
               if self.ids is None or element in self.ids]
        due += [(when - now, f"deadline:{prop}") for prop, when in monitor.pending.items()]
        seen = tuple(sorted(k for k, v in monitor.seen.items() if v))
        return tuple(sorted(control)), data, tuple(sorted(due)), seen

    def container(self, file: str, element: str, state: TaskState) -> bool:
        """A started sub-process or call activity, by file and element id (see ``_container``)."""
        model_key = self.liveness.by_id.get((file, element))
        return model_key is not None and self._container(model_key, state)

    def _container(self, key: Any, state: TaskState) -> bool:
        """A started sub-process or call: what runs inside it is an active position itself, and
        the liveness from there runs on past the container's end; its own (from its start) would
        only add reads the patient has already passed."""
        return state == TaskState.STARTED and self.model.elements[key].tag in _CONTAINERS

    def answer_effect(self, file: str, element: str, others: list[tuple[str, str]], variables: dict[str, Any],
                      answers: dict[str, Any], clock: SimulatedClock) -> tuple:
        """What completing a task with these (typed) answers leaves for later reads to see: each
        answer as the comparisons later reads make on it, or the outcome of the decision that
        reads it next. Two answers with one effect lead to one state. ``others``: the other active
        elements (file, id), whose paths may read or write the same names meanwhile."""
        model_key = self.liveness.by_id.get((file, element))
        if model_key is None:
            return tuple(sorted(answers.items(), key=repr))
        positions = [(model_key, True)] + [(self.liveness.by_id[o], False) for o in others
                                           if o in self.liveness.by_id and o != (file, element)]
        return self._project(self.liveness, positions, {**variables, **answers}, set(answers), clock)

    def _project(self, liveness: Liveness, positions: list[tuple[Any, bool]], variables: dict[str, Any],
                 only: set[str] | None, clock: SimulatedClock) -> tuple:
        """The live variables at these positions (or just after one, for a completed task) as later
        reads can tell them apart. A decision still to run whose inputs nothing may write before
        it runs is kept as what it would decide (answers read only by it then merge); the inputs
        of any other decision, and what conditions read directly, as their comparison classes.
        ``only``: project just these names (and the decisions that read them)."""
        live, direct, decisions = self._plan(liveness, positions, only)
        today, now = clock.today(), clock.now()
        data: list[tuple] = []
        folded: set[str] = set()
        raw: set[str] = set(direct)
        for name, decision, inputs, reaching, changing in decisions:
            if inputs <= raw:
                continue
            if self.memo.instant(decision, clock) is not None:
                # it reads the clock when it runs, later: what it decides today says nothing of
                # then. Its inputs are kept as they are, dates as their distance from today.
                raw |= reaching
                continue
            fixed = reaching - changing
            if fixed == inputs:
                folded |= inputs
                data.append((name, self._decide(decision, {n: variables.get(n) for n in inputs}, clock)))
                continue
            # it will combine today's values with answers still to come: kept as the rules today's
            # values leave in play, for each way the inputs that may or may not be asked again go
            summaries = self._summaries(decision, inputs, fixed, sorted(reaching & changing), variables, clock)
            if summaries is not None:
                folded |= reaching
                data.append((name, tuple(summaries)))
                continue
            signature = self._signature(decision, fixed, inputs - fixed, variables, clock)
            if signature is None:
                # too many ways to try: the rules today's fixed values leave in play, with the
                # answers that may still change kept as their own classes
                signature = self._fixed_mask(decision, inputs, fixed, variables, clock)
            raw |= reaching & changing
            if signature is None:
                raw |= reaching
            else:
                folded |= fixed
                data.append((name, signature))
        for name in sorted(live):
            if name.startswith(DECISION) or name not in variables or (only is not None and name not in only):
                continue
            if name in raw or name not in folded:
                value = variables[name]
                cap = self.domains.date_caps.get(name)
                if cap is not None and isinstance(value, date) and not isinstance(value, datetime) \
                        and (today - value).days > cap:
                    data.append((name, ("day", -cap - 1)))  # past every threshold read on it, for good
                else:
                    data.append((name, abstract(self.domains.abstract(name, value), today, now)))
        return tuple(data)

    def _fixed_mask(self, decision: str, inputs: set[str], fixed: set[str], variables: dict[str, Any],
                    clock: SimulatedClock) -> tuple | None:
        """The rules the fixed inputs leave in play, every other input counted as still to come.
        Two states with one mask, and the same classes of the other inputs, decide the same."""
        cache_key = self._cache_key(decision, fixed, variables, clock)
        found = self._masks.get(("fixed", cache_key), _MISSING) if cache_key is not None else _MISSING
        if found is _MISSING:
            found = rule_mask(self.bundle.decisions, decision, {n: variables.get(n) for n in fixed},
                              inputs - fixed, clock, self.memo.reads)
            if cache_key is not None:
                self._masks[("fixed", cache_key)] = found
        return found

    def _result_names(self, decision: str) -> list[str]:
        """The variables business rule tasks store this decision's result in."""
        names = self._results.get(decision)
        if names is None:
            names = sorted({e.attr("resultVariable") or decision for e in self.model.elements.values()
                            if e.tag == "businessRuleTask" and e.attr("decisionRef") == decision}) or [decision]
            self._results[decision] = names
        return names

    def _inputs(self, decision: str) -> tuple[str, ...]:
        return self.memo.reads(decision)

    def _summaries(self, decision: str, inputs: set[str], fixed: set[str], uncertain: list[str],
                   variables: dict[str, Any], clock: SimulatedClock) -> tuple | None:
        """The rule masks of a decision for each way its uncertain inputs go (asked again or not);
        None when there are too many ways or a table cannot be summarised."""
        if len(uncertain) > _MAX_UNCERTAIN:
            return None
        cache_key = self._cache_key(decision, fixed | set(uncertain), variables, clock)
        found = self._masks.get(cache_key, _MISSING) if cache_key is not None else _MISSING
        if found is _MISSING:
            masks = []
            for size in range(len(uncertain) + 1):
                for kept in itertools.combinations(uncertain, size):
                    known = fixed | set(kept)
                    masks.append(rule_mask(self.bundle.decisions, decision, {n: variables.get(n) for n in known},
                                           inputs - known, clock, self.memo.reads))
            found = None if None in masks else tuple(masks)
            if cache_key is not None:
                self._masks[cache_key] = found
        return found

    def _cache_key(self, decision: str, names: set[str], variables: dict[str, Any], clock: SimulatedClock) -> tuple | None:
        """Exact values (two dates before today are not one value here) and the instant where the
        decision reads the clock; None when a value cannot be a key."""
        try:
            key = (decision, self.memo.instant(decision, clock), tuple((n, freeze(variables.get(n))) for n in sorted(names)))
            hash(key)
        except TypeError:
            return None
        return key

    def _plan(self, liveness: Liveness, positions: list[tuple[Any, bool]], only: set[str] | None) -> tuple:
        """What of the projection depends on the positions alone (computed once per positions):
        the live and directly read names, and per live decision its inputs, those whose value now
        can reach it, and those that may be written before it runs."""
        cache_key = (id(liveness), tuple(sorted(positions, key=repr)), frozenset(only) if only is not None else None)
        found = self._plans.get(cache_key)
        if found is not None:
            return found
        live: set[str] = set(self.always)
        direct: set[str] = set(self.always)
        for key, after in positions:
            live |= liveness.live_after(key) if after else liveness.live(key)
            direct |= liveness.live_after(key, direct=True) if after else liveness.live_direct(key)
            if after:  # a property on the task's own completion reads its answers in this step
                live |= self.placed.get(key, set())
                direct |= self.placed.get(key, set())
        decisions = []
        for name in sorted(n for n in live if n.startswith(DECISION)):
            decision = name[len(DECISION):]
            inputs = set(self._inputs(decision))
            if only is not None and not inputs & only:
                continue
            reaching = set().union(*(liveness.live_for(decision, tuple(sorted(inputs)), k, a) for k, a in positions))
            if not reaching:
                continue  # nothing it will read is decided yet
            changing = set().union(*(liveness.written_before(decision, k, a) for k, a in positions))
            decisions.append((name, decision, inputs, reaching, changing))
        found = self._plans[cache_key] = (live, direct, decisions)
        return found

    def _signature(self, decision: str, fixed: set[str], open_: set[str], variables: dict[str, Any],
                   clock: SimulatedClock) -> tuple | None:
        """What the decision decides for each class of its inputs still to come, with the others as
        they are now; None when those classes are unknown or too many to try."""
        choices: list[list[Any]] = []
        for name in sorted(open_):
            values = self.domains.input_classes(name)
            if values is None:
                return None
            choices.append(values)
        if math.prod(len(values) for values in choices) > _MAX_SIGNATURE:
            return None
        cache_key = self._cache_key(decision, fixed, variables, clock)
        found = self._signatures.get(cache_key, _MISSING) if cache_key is not None else _MISSING
        if found is _MISSING:
            base = {n: variables.get(n) for n in fixed}
            names = sorted(open_)
            found = tuple(self._decide(decision, {**base, **dict(zip(names, combo, strict=True))}, clock)
                          for combo in itertools.product(*choices))
            if cache_key is not None:
                self._signatures[cache_key] = found
        return found

    def _decide(self, decision: str, context: dict[str, Any], clock: SimulatedClock) -> Any:
        """What the decision decides on this context, as its result variables are read: a list
        only as "contains X or not" where that is all a condition asks, a number derived from
        dates by the thresholds tested on it."""
        today, now = clock.today(), clock.now()
        try:
            result = self.memo(decision, context, clock=clock)
        except Exception as exc:  # noqa: BLE001 - a decision that cannot run yet is a fact too
            return ("error", type(exc).__name__)
        cached = self._outcomes.get(id(result))
        if cached is not None and cached[0] is result and cached[1:3] == (today, now):
            return cached[3]
        seen = abstract(tuple(self.domains.abstract(name, result.raw_value) for name in self._result_names(decision)),
                        today, now)
        if len(self._outcomes) > _MAX_OUTCOMES:  # results the memo did not keep: do not hoard them
            self._outcomes.clear()
        self._outcomes[id(result)] = (result, today, now, seen)
        return seen


def abstract(value: Any, today: date, now: datetime) -> Any:
    """A value as the state key sees it: dates and instants as their distance from today and
    now, numbers as decimals, records and lists item by item. Distance, not just order: a date a
    "time since" decision or a timer will read later is read at a later instant, where two dates
    on one side of a threshold today may fall on either side of it."""
    if isinstance(value, datetime):
        return ("at", value - now)
    if isinstance(value, date):
        return ("day", (value - today).days)
    if isinstance(value, dict):
        return tuple(sorted((k, abstract(v, today, now)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(abstract(v, today, now) for v in value)
    if isinstance(value, float):
        return Decimal(str(value))
    return value
