"""Which variables are written on every path (must) and on some path (may) into each element.

A classic forward data-flow analysis over the BPMN flow graph, across sub-processes, call
activities, boundary events and event sub-processes:

- an element passes on what reaches it plus what it writes (a required form field, a decision's
  result variable, a declared message payload; an optional field only counts as *may*);
- where alternative paths merge, only what every path wrote is certain (intersection); a parallel
  join waits for every branch, so it has what any branch wrote (union);
- a sub-process or call activity passes on what every normal end of its body has; a boundary
  event fires while its activity runs, so it only has what reached the activity;
- an event sub-process may start at any time: it is certain only of what its scope had on entry,
  and may see anything written anywhere in that scope;
- a condition that needs a name set (``riskResult != null``) lets through only paths on which one
  of that name's writers has run, so what every such writer was certain of holds there too
  (variables are never unset, so what held then still holds): a late event sub-process can guard
  on a decision's result and then read what that decision's inputs were.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Element, Key, PathwayModel

_MAX_PASSES = 200


@dataclass
class Reach:
    must: frozenset[str]
    may: frozenset[str]


class Dataflow:
    def __init__(self, model: PathwayModel) -> None:
        self.model = model
        self.nodes = [e for e in model.elements.values() if e.tag != "sequenceFlow"]
        self.must_in: dict[Key, frozenset[str] | None] = {e.key: None for e in self.nodes}
        self.may_in: dict[Key, frozenset[str]] = {e.key: frozenset() for e in self.nodes}
        self.callers = model.callers
        self._main_ends: dict[Key, list[Element]] = {}
        self._throws: dict[str, list[Element]] = {}  # signal -> the events that throw it
        for element in self.nodes:
            if element.tag in ("intermediateThrowEvent", "endEvent") and element.signal:
                self._throws.setdefault(element.signal, []).append(element)
        self._scope_writes = {e.key: self._writes_within(e) for e in self.nodes if e.tag in ("process", "subProcess")}
        self._solve()

    # -- results -------------------------------------------------------------------------------
    def reach(self, element: Element, after: bool = False) -> Reach:
        """What is written on every / some path into ``element`` (``after``: once it has run)."""
        must, may = self._out(element) if after else (self.must_in.get(element.key), self.may_in.get(element.key))
        return Reach(must if must is not None else frozenset(), may or frozenset())

    # -- transfer ------------------------------------------------------------------------------
    def _own_writes(self, element: Element) -> tuple[set[str], set[str]]:
        writes = self.model.writes.get(element.key, [])
        return {w.name for w in writes if w.definite}, {w.name for w in writes}

    def _writes_within(self, scope: Element) -> frozenset[str]:
        names: set[str] = set()
        seen: set[str] = set()
        todo = [scope]
        while todo:
            current = todo.pop()
            for child in self.model.children(current):
                names |= self._own_writes(child)[1]
                if child.tag in ("subProcess", "transaction"):
                    todo.append(child)
                elif child.tag == "callActivity":
                    called = self.model.called(child)
                    if called is not None and called.id not in seen:
                        seen.add(called.id)
                        todo.append(called)
        return frozenset(names)

    def _out(self, element: Element) -> tuple[frozenset[str] | None, frozenset[str]]:
        must, may = self.must_in[element.key], self.may_in[element.key]
        if must is None:
            return None, may
        own_must, own_may = self._own_writes(element)
        body = None
        if element.tag in ("subProcess", "transaction") and not element.is_event_subprocess:
            body = self._exit(element)
        elif element.tag == "callActivity" and self.model.called(element) is not None:
            body = self._exit(self.model.called(element))
        body_must, body_may = body if body is not None else (frozenset(), frozenset())
        return must | own_must | (body_must or frozenset()), may | own_may | body_may

    def _exit(self, scope: Element) -> tuple[frozenset[str] | None, frozenset[str]]:
        ends = self._main_ends.get(scope.key)
        if ends is None:
            ends = self._main_ends[scope.key] = main_ends(self.model, scope)
        musts, mays = [], set()
        for end in ends:
            must, may = self._out(end)
            if must is not None:
                musts.append(must)
            mays |= may
        if not ends:
            return self.must_in.get(scope.key), self.may_in.get(scope.key, frozenset())
        return (frozenset.intersection(*musts) if musts else None), frozenset(mays)

    def _scope_entry(self, scope: Element) -> tuple[frozenset[str] | None, frozenset[str]]:
        """What every start of a scope has: a process's start form, or what reached the sub-process."""
        if scope.tag == "process":
            callers = self.callers.get(scope.id, [])
            if not callers:
                starts = [e for e in self.model.children(scope) if e.tag == "startEvent"]
                written = set().union(*(self._own_writes(s)[0] for s in starts)) if starts else set()
                written |= self._own_writes(scope)[0]
                return frozenset(written), frozenset(written)
            musts = [self._out_of_call(c) for c in callers]
            known = [m for m, _ in musts if m is not None]
            return (frozenset.intersection(*known) if known else None), frozenset().union(*(m for _, m in musts))
        return self.must_in[scope.key], self.may_in[scope.key]

    def _out_of_call(self, call: Element) -> tuple[frozenset[str] | None, frozenset[str]]:
        return self.must_in[call.key], self.may_in[call.key]

    def _incoming(self, element: Element) -> tuple[frozenset[str] | None, frozenset[str]]:
        model = self.model
        scope = element.scope
        if element.tag == "boundaryEvent":
            host = model.elements.get((element.file, element.node.get("attachedToRef") or ""))
            if host is not None:
                return self.must_in[host.key], self.may_in[host.key]
        if element.is_event_subprocess and scope is not None:
            must, may = self._scope_entry(scope)
            thrown = self._before_throws(element)
            if must is not None and thrown is not None:
                must = must | thrown
            return must, may | self._scope_writes.get(scope.key, frozenset())
        preds = model.pred.get(element.key, [])
        if not preds:
            if element.tag == "startEvent" and scope is not None:
                if scope.tag == "process":
                    callers = self.callers.get(scope.id, [])
                    if not callers:  # the top-level process: its declared inputs
                        declared = frozenset(self._own_writes(scope)[0])
                        return declared, declared
                    musts = [self._out_of_call(c) for c in callers]
                    known = [m for m, _ in musts if m is not None]
                    return ((frozenset.intersection(*known) if known else None),
                            frozenset().union(*(m for _, m in musts)))
                return self.must_in[scope.key], self.may_in[scope.key]
            if element.tag in ("process", "subProcess"):
                return self.must_in[element.key], self.may_in[element.key]
            return frozenset(), frozenset()
        outs = []
        for flow in model.incoming_flows.get(element.key, []):
            source = model.elements.get(model.flows[flow][0])
            if source is None:
                continue
            must, may = self._out(source)
            implied = frozenset(model.implied.get(flow, ()))
            after = self._after_writers(implied) if implied else frozenset()
            outs.append((None if must is None or after is None else must | implied | after, may | implied))
        known = [m for m, _ in outs if m is not None]
        may = frozenset().union(*(m for _, m in outs))
        if not known:
            return None, may
        if element.tag == "parallelGateway" and len(preds) > 1:
            return frozenset().union(*known), may
        return frozenset.intersection(*known), may

    def _after_writers(self, names: frozenset[str]) -> frozenset[str] | None:
        """What is certain once each of ``names`` is set: what every one of its writers had after
        running. Like every other fact here this is a greatest fixpoint: a writer no path reaches
        (yet) is left out, as it never runs, and while none is reached the guarded flow is not
        either (None); a name nothing writes adds nothing."""
        found: set[str] = set()
        for name in names:
            writers = self.model.writers_of(name)
            musts = [m for m in (self._out(w.element)[0] for w in writers) if m is not None]
            if writers and not musts:
                return None
            if musts:
                found |= frozenset.intersection(*musts)
        return frozenset(found)

    def _before_throws(self, esp: Element) -> frozenset[str] | None:
        """For an event sub-process started by a signal: what is written on every path to every
        throw of that signal (signals come only from the model's own throw events, so the
        sub-process cannot start before one of them). None for other starts, or no throw yet."""
        start = next((c for c in self.model.children(esp) if c.tag == "startEvent"), None)
        signal = start.signal if start is not None else ""
        if not signal:
            return None
        known = [self.must_in.get(t.key) for t in self._throws.get(signal, [])]
        known = [k for k in known if k is not None]
        return frozenset.intersection(*known) if known else None

    def _solve(self) -> None:
        for process in self.model.processes.values():
            if not self.callers.get(process.id):
                self.must_in[process.key] = frozenset()
        for _ in range(_MAX_PASSES):
            changed = False
            for element in self.nodes:
                if element.tag == "process":
                    continue
                must, may = self._incoming(element)
                if must != self.must_in[element.key] or may != self.may_in[element.key]:
                    self.must_in[element.key], self.may_in[element.key] = must, may
                    changed = True
            if not changed:
                return


def main_ends(model: PathwayModel, scope: Element) -> list[Element]:
    """The normal end events a scope's main flow can reach: not error/escalation ends, and not the
    ends of side branches started by non-interrupting boundary events (a reminder's end does not
    complete the scope while its activity still waits)."""
    starts = [e for e in model.children(scope) if e.tag == "startEvent"]
    seen: set[Key] = set()
    todo = [s.key for s in starts]
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        todo.extend(model.succ.get(key, []))
        todo.extend(b.key for b in model.boundaries.get(key, [])
                    if b.node.get("cancelActivity", "true") != "false")
    return [model.elements[k] for k in seen if model.elements[k].tag == "endEvent"
            and model.elements[k].event_kind not in ("error", "escalation")]
