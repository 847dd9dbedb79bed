"""When the start of an event sub-process can wait: a partial-order reduction.

A non-interrupting event sub-process started by a message (a new fracture reported) may start in
any state, so started from every state it multiplies every state of the tracks it runs beside.
Most of those orders are the same: if the step just taken wrote nothing the sub-process reads, and
starting the sub-process writes nothing the tracks read, then "start, then the step" and "the
step, then start" reach the same state (the two commute). The explorer therefore starts such a
sub-process only where the order can matter: at enrolment, after a clock move, after a message,
and after a step that wrote something the sub-process reads. Every start it skips is reached by a
start it makes followed by the same steps, so the same keys are explored and the same findings
found. Sub-processes a property names (an element of it, or its message) keep every order: a
property may see the order of events.
"""

from __future__ import annotations

from typing import Any

from ..analysis import PathwayModel
from ..analysis.model import Key
from .properties import Property
from .tracks import esp_track

_WAITS = {"userTask", "receiveTask", "manualTask", "intermediateCatchEvent", "eventBasedGateway",
          "callActivity", "subProcess", "transaction", "boundaryEvent"}


class StartReduction:
    def __init__(self, model: PathwayModel, non_interrupting: dict[str, str], properties: list[Property],
                 track_reads: set[str]) -> None:
        """``non_interrupting``: message -> id of the event sub-process it starts; ``track_reads``:
        what the tracks beside it (not the event sub-processes) read."""
        named_messages = set().union(*(p.named("message") for p in properties))
        named_elements = set().union(*(p.named("element") for p in properties))
        self.reads: dict[str, frozenset[str]] = {}  # message -> what its sub-process reads (eligible ones)
        for message, esp_id in non_interrupting.items():
            esp = next((e for e in model.elements.values() if e.id == esp_id and e.is_event_subprocess), None)
            if esp is None or message in named_messages:
                continue
            track = esp_track(model, esp)
            if {model.elements[k].id for k in track.elements} & named_elements:
                continue
            start = next((c for c in model.children(esp) if c.tag == "startEvent"), None)
            writes, throws = _start_effects(model, start.key, message) if start is not None else (set(), True)
            if throws or writes & track_reads:
                continue  # the tracks would see it (a signal may cancel them): the start does not commute
            self.reads[message] = frozenset(track.reads)
        self.in_event_subprocess = {e.id for e in model.elements.values()
                                    if any(s.is_event_subprocess for s in e.enclosing())}

    def may_wait(self, message: str, kind: str, element: str | None, changed: frozenset[str] | None) -> bool:
        """True when starting the sub-process of ``message`` here is the same as starting it before
        the step that led here (``kind``/``element``: that step; ``changed``: what it wrote)."""
        reads = self.reads.get(message)
        if reads is None or kind != "complete" or changed is None or element in self.in_event_subprocess:
            return False  # clock moves, messages and event sub-process steps can change what may start
        return not changed & reads


def changed_names(before: dict[str, Any], after: dict[str, Any]) -> frozenset[str]:
    """The names a step wrote a different value to (or removed): what ``may_wait`` is told."""
    missing = object()
    return frozenset(name for name in before.keys() | after.keys()
                     if before.get(name, missing) != after.get(name, missing))


def _start_effects(model: PathwayModel, start: Key, message: str) -> tuple[set[str], bool]:
    """What the start does before its first wait: the variables it writes (the message's declared
    payload and every write of the elements it runs straight through), and whether it throws
    anything (a signal, error, escalation or a terminate end) that other tracks may catch."""
    prefix = model.reachable([start], lambda key: [t for t in model.succ.get(key, [])
                                                   if model.elements[t].tag not in _WAITS])
    writes = set(model.declared_payloads.get((message, model.elements[start].id), []))
    writes |= {w.name for key in prefix for w in model.writes.get(key, [])}
    throws = any(model.elements[key].tag in ("intermediateThrowEvent", "endEvent")
                 and model.elements[key].event_kind not in (None, "", "none") for key in prefix)
    return writes, throws
