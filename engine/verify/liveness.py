"""Which variables can still be read, before being written again, from where a pathway stands.

Two explored states that differ only in variables nothing will read again behave the same, so the
explorer identifies states by their control position plus the *live* variables. This is the
classic backward live-variable analysis over the pathway's flow graph: a variable is live at an
element if some path from it reads the variable before any element on the path writes it for
certain (a required answer, a decision result, a declared payload).

The graph follows sequence flows, boundary events, sub-process and called-process bodies, the
continuation after a finished scope, error and escalation catchers, and the event sub-processes
of every enclosing scope (which may start at any time). A process called from several places is
walked once per caller from that caller, returning only to that caller's continuation (a path
that enters from one caller and leaves to another's continuation is never taken); its own
elements, where a patient may wait, keep every caller's continuation. A thrown signal leads
nowhere here: its catchers only matter while they wait, and then they are active elements of the
state themselves.
A business rule task reads its decision's inputs and, as ``DECISION + id``, the decision itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..analysis import PathwayModel
from ..analysis.model import Element, Key

DECISION = "decision:"  # prefix of a decision's id among the live names
_MAX_PASSES = 500

Node = Key | tuple[str, str, str]


class Liveness:
    def __init__(self, model: PathwayModel, interrupting: bool = True,
                 extra: Mapping[Key, set[str]] | None = None) -> None:
        """``interrupting=False``: leave out what interrupting event sub-processes read. The
        explorer starts one of those once per value of what it reads, wherever the tracks stand
        (it cancels them all), so their reads need not tell the tracks' states apart.
        ``extra``: names read at an element besides the model's own reads (a safety property's
        where-clause on that element's events)."""
        self.model = model
        self.interrupting = interrupting
        self.edges: dict[Node, set[Node]] = {}
        self.side: dict[Node, set[Node]] = {}  # boundary events and event sub-processes: before any write
        self.origin: dict[Node, Key] = {}  # a called body's element, walked for one caller -> the element
        self._build()
        self.nodes: set[Node] = (set(self.edges) | set(self.side)
                                 | {t for edges in (self.edges, self.side) for targets in edges.values() for t in targets})
        reads: dict[Node, set[str]] = {}
        direct: dict[Node, set[str]] = {}  # read by a condition, timer, due date or default itself
        for read in model.reads:
            names = {path[0] for path in read.paths}
            reads.setdefault(read.at.key, set()).update(names)
            if read.element.tag == "businessRuleTask" and read.what.startswith("decision"):
                reads[read.at.key].add(DECISION + (read.element.attr("decisionRef") or ""))
            else:
                direct.setdefault(read.at.key, set()).update(names)
        for key, names in (extra or {}).items():
            reads.setdefault(key, set()).update(names)
            direct.setdefault(key, set()).update(names)
        self.kills: dict[Node, set[str]] = {
            key: {w.name for w in writes if w.definite} for key, writes in model.writes.items()}
        for catch, names in self._signal_kills().items():
            self.kills.setdefault(catch, set()).update(names)
        for copy, key in self.origin.items():
            for table in (reads, direct, self.kills):
                if key in table:
                    table[copy] = table[key]
        self.by_id: dict[tuple[str, str], Key] = {(e.file, e.id): e.key for e in model.elements.values()}
        self._live = self._solve(reads)
        self._live_direct = self._solve(direct)
        self._writes = {key: frozenset(w.name for w in found) for key, found in model.writes.items()}
        self._callers: dict[str, set[Node]] = {}  # decision -> the business rule tasks (and their copies)
        for node, key in [*((k, k) for k in model.elements), *self.origin.items()]:
            element = model.elements[key]
            if element.tag == "businessRuleTask" and element.attr("decisionRef"):
                self._callers.setdefault(element.attr("decisionRef"), set()).add(node)
        self._before: dict[str, dict[Node, frozenset[str]]] = {}
        self._live_for: dict[str, dict[Node, frozenset[str]]] = {}

    def live(self, key: Key) -> frozenset[str]:
        """Names a path from the element (itself included) reads before writing them, decisions
        (``DECISION + id``) and their inputs included."""
        return self._live.get(key, frozenset())

    def live_after(self, key: Key, direct: bool = False) -> frozenset[str]:
        """The names live once the element has completed: what its successors may read (an answer
        nothing reads after its task tells no two futures apart); ``direct``: only those some
        condition, timer, due date or default reads itself."""
        return self._at(self._live_direct if direct else self._live, key, True)

    def live_direct(self, key: Key) -> frozenset[str]:
        """The live names some condition, timer, due date or default will read itself."""
        return self._live_direct.get(key, frozenset())

    def written_before(self, decision: str, key: Key, after: bool = False) -> frozenset[str]:
        """Every name some path from the element (itself included, unless ``after``) may write
        before the decision next runs: inputs outside this set reach the decision as they are now."""
        solved = self._before.get(decision)
        if solved is None:
            solved = self._before[decision] = self._solve_before(self._callers.get(decision, set()))
        return self._at(solved, key, after)

    def live_for(self, decision: str, inputs: tuple[str, ...], key: Key, after: bool = False) -> frozenset[str]:
        """The decision's inputs whose value at the element (or just after it) can reach a run of
        the decision unwritten."""
        solved = self._live_for.get(decision)
        if solved is None:
            reads = {caller: set(inputs) for caller in self._callers.get(decision, set())}
            solved = self._live_for[decision] = self._solve(reads)
        return self._at(solved, key, after)

    def _at(self, solved: dict[Node, frozenset[str]], key: Key, after: bool) -> frozenset[str]:
        """A solution at the element, or just after it (the union over its successors)."""
        if not after:
            return solved.get(key, frozenset())
        found: set[str] = set()
        for target in self.edges.get(key, ()):
            found |= solved.get(target, frozenset())
        return frozenset(found)

    def _solve_before(self, callers: set[Key]) -> dict[Node, frozenset[str]]:
        nodes = self.nodes
        nexts = {n: self.edges.get(n, set()) | self.side.get(n, set()) for n in nodes}
        reaches = set(callers)
        for _ in range(_MAX_PASSES):
            grown = {n for n in nodes if n not in reaches and nexts[n] & reaches}
            if not grown:
                break
            reaches |= grown
        before: dict[Node, frozenset[str]] = {n: frozenset() for n in nodes}
        for _ in range(_MAX_PASSES):
            changed = False
            for node in reaches - callers:
                value = set(self._writes.get(node, ()))
                for target in nexts[node]:
                    if target in reaches:
                        value |= before[target]
                if value != before[node]:
                    before[node] = frozenset(value)
                    changed = True
            if not changed:
                break
        return before

    def _solve(self, reads: dict[Node, set[str]]) -> dict[Node, frozenset[str]]:
        nodes = self.nodes | set(reads)
        live_in: dict[Node, frozenset[str]] = {n: frozenset() for n in nodes}
        for _ in range(_MAX_PASSES):
            changed = False
            for node in nodes:
                out: set[str] = set()
                for target in self.edges.get(node, ()):
                    out |= live_in[target]
                side: set[str] = set()
                for target in self.side.get(node, ()):
                    side |= live_in[target]
                value = frozenset(reads.get(node, set()) | side | (out - self.kills.get(node, set())))
                if value != live_in[node]:
                    live_in[node] = value
                    changed = True
            if not changed:
                break
        return live_in

    def _signal_kills(self) -> dict[Key, set[str]]:
        """A signal catch is reached only after a throw, so what the throwing scope wrote for
        certain between its start and the throw is fresh there: older values of those names are
        dead at the catch (e.g. a red-flag triage handed back to an interrupted track)."""
        model = self.model
        fresh: dict[str, set[str] | None] = {}
        for element in model.elements.values():
            if element.tag != "intermediateThrowEvent" or element.event_kind != "signal" or element.scope is None:
                continue
            written = _written_before(model, element)
            name = element.signal
            fresh[name] = written if fresh.get(name) is None else fresh[name] & written
        kills: dict[Key, set[str]] = {}
        for element in model.elements.values():
            if element.event_kind == "signal" and element.tag in ("intermediateCatchEvent", "boundaryEvent"):
                names = fresh.get(element.signal)
                if names:
                    kills[element.key] = set(names)
        return kills

    # -- the graph -----------------------------------------------------------------------------
    def _edge(self, source: Node, target: Node) -> None:
        self.edges.setdefault(source, set()).add(target)

    def _side(self, source: Node, target: Node) -> None:
        self.side.setdefault(source, set()).add(target)

    def _build(self) -> None:
        model = self.model
        callers = model.callers
        catchers: dict[tuple[str, str], list[Key]] = {}
        for element in model.elements.values():
            kind = element.event_kind
            if kind in ("error", "escalation") and element.tag == "boundaryEvent":
                catchers.setdefault((kind, _ref_name(element)), []).append(element.key)
        for source, targets in model.succ.items():
            for target in targets:
                self._edge(source, target)
        for host, boundaries in model.boundaries.items():
            for boundary in boundaries:
                self._side(host, boundary.key)
        for element in model.elements.values():
            if element.tag == "sequenceFlow":
                continue
            scope = element.scope
            if scope is not None:  # while inside a scope, its event sub-processes may start
                self._side(element.key, ("scope", scope.file, scope.id))
            if element.tag in ("subProcess", "transaction", "process"):
                for child in model.children(element):
                    if child.is_event_subprocess and (self.interrupting or not _interrupts(child)):
                        self._edge(("scope", element.file, element.id), child.key)
                if element.scope is not None:
                    self._edge(("scope", element.file, element.id), ("scope", element.scope.file, element.scope.id))
            if element.tag in ("subProcess", "transaction"):
                for child in model.children(element):
                    if child.tag == "startEvent":
                        self._edge(element.key, child.key)
            if element.tag == "callActivity":
                called = model.called(element)
                if called is not None:
                    for child in model.children(called):
                        if child.tag == "startEvent":
                            self._edge(element.key, child.key)
            if element.tag == "endEvent" and scope is not None:
                kind = element.event_kind
                if kind in ("error", "escalation"):
                    for target in catchers.get((kind, _ref_name(element)), []):
                        self._edge(element.key, target)
                    continue
                hosts = callers.get(scope.id, []) if scope.tag == "process" else [scope]
                for host in hosts:
                    for target in model.succ.get(host.key, []):
                        self._edge(element.key, target)
        for calls in callers.values():
            if len(calls) > 1:
                self._walk_per_caller(model.called(calls[0]), calls)

    def _walk_per_caller(self, called: Element, calls: list[Element]) -> None:
        """Give each call its own copy of the called body, entered from the call and left to the
        call's own continuation; the call no longer enters the shared body."""
        model = self.model
        body: set[Node] = set()
        scopes = [called]
        while scopes:
            scope = scopes.pop()
            body.add(("scope", scope.file, scope.id))
            for child in model.children(scope):
                body.add(child.key)
                if child.tag in ("subProcess", "transaction"):
                    scopes.append(child)
        starts = [c.key for c in model.children(called) if c.tag == "startEvent"]
        continuations = {t for call in calls for t in model.succ.get(call.key, [])}
        for call in calls:
            own = set(model.succ.get(call.key, []))

            def copy(node: Node, call: Element = call) -> Node:
                return ("via", call.key, node)

            for node in body:
                if len(node) == 2:  # an element (not a scope's event sub-process entry)
                    self.origin[copy(node)] = node
                for table, add in ((self.edges, self._edge), (self.side, self._side)):
                    for target in table.get(node, set()):
                        if target in body:
                            add(copy(node), copy(target))
                        elif target not in continuations or target in own:
                            add(copy(node), target)
            self.edges[call.key] = {t for t in self.edges.get(call.key, set()) if t not in starts}
            for start in starts:
                self._edge(call.key, copy(start))


def _written_before(model: PathwayModel, target: Element) -> set[str]:
    """Names written for certain on every path from the target's scope start to the target."""
    scope = target.scope
    starts = [c.key for c in model.children(scope) if c.tag == "startEvent"]
    must: dict[Key, set[str] | None] = {}
    for _ in range(_MAX_PASSES):
        changed = False
        for key in [e.key for e in model.children(scope) if e.tag != "sequenceFlow"]:
            preds = model.pred.get(key, [])
            ins = [must.get(p) for p in preds]
            known = [x for x in ins if x is not None]
            if key in starts:
                value: set[str] | None = set()
            elif not known:
                value = None
            else:
                value = set.intersection(*known)
            if value is not None:
                value = value | {w.name for w in model.writes.get(key, []) if w.definite}
            if value != must.get(key):
                must[key] = value
                changed = True
        if not changed:
            break
    reaching = [must.get(p) for p in model.pred.get(target.key, [])]
    known = [x for x in reaching if x is not None]
    return set.intersection(*known) if known else set()


def _interrupts(esp: Element) -> bool:
    start = next((c for c in esp.node if isinstance(c.tag, str) and c.tag.endswith("startEvent")), None)
    return start is not None and start.get("isInterrupting", "true") != "false"


def _ref_name(element: Element) -> str:
    for child in element.node:
        if isinstance(child.tag, str) and child.tag.endswith("EventDefinition"):
            ref = child.get("errorRef") or child.get("escalationRef") or ""
            root = element.node.getroottree().getroot()
            for node in root.iter():
                if isinstance(node.tag, str) and node.get("id") == ref:
                    return node.get("errorCode") or node.get("escalationCode") or node.get("name") or ref
            return ref
    return ""
