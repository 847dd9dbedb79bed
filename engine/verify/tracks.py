"""Tracks of a pathway and which of them can be explored apart.

A *track* is one branch of the top-level process's first parallel split (for the OVCF pathway:
coordination, bone therapy, the acute phase), with everything it calls, or one top-level event
sub-process. Two tracks *interfere* when one reads a variable the other writes, or catches a
signal the other throws; interfering tracks are explored together, as one *group*. An event
sub-process joins every group it interferes with (it may start at any time in each); an
interrupting one joins every group, since it can stop any of them. One started by a signal that
only another group's track throws is started by the explorer itself in the groups it writes for
(``Group.outside``), since no track there would ever throw it.

Exploring groups one at a time is what keeps the search small: the tracks of different groups
cannot tell each other's states apart, so their product adds nothing a check could see. Every
check is made per group: the group's own tasks and timers, its own ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..analysis import PathwayModel
from ..analysis.model import Element, Key
from ..analysis.model import properties as element_properties


@dataclass
class Track:
    name: str
    elements: set[Key] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    throws: set[str] = field(default_factory=set)
    catches: set[str] = field(default_factory=set)
    event_subprocess: Element | None = None

    @property
    def interrupting(self) -> bool:
        esp = self.event_subprocess
        if esp is None:
            return False
        start = next((c for c in esp.node if isinstance(c.tag, str) and c.tag.endswith("startEvent")), None)
        return start is not None and start.get("isInterrupting", "true") != "false"

    def interferes(self, other: Track) -> bool:
        return bool(self.writes & other.reads or other.writes & self.reads
                    or self.throws & other.catches or other.throws & self.catches)


@dataclass
class Group:
    name: str
    tracks: list[Track]
    prefix: set[Key]
    # event sub-processes started by a signal only tracks of other groups throw, which write what
    # this group reads: start event id -> what the sub-process reads from those other tracks.
    # Explored here, the signal may come at any time, with any value of those (an over-approximation:
    # the other tracks are not explored beside this group's).
    outside: dict[str, set[str]] = field(default_factory=dict)

    @property
    def elements(self) -> set[Key]:
        found = set(self.prefix)
        for track in self.tracks:
            found |= track.elements
        return found

    @property
    def reads(self) -> set[str]:
        return set().union(*(t.reads for t in self.tracks))


def groups(model: PathwayModel) -> list[Group]:
    top = model.top_process()
    if top is None:
        return []
    prefix, branches = _split(model, top)
    tracks = [_track(model, f"branch:{target[1]}", {target}, prefix) for target in branches]
    tracks = _merge_overlapping(tracks)
    esps = [esp_track(model, esp) for esp in model.children(top) if esp.is_event_subprocess]
    if not tracks:  # no parallel split: the whole process is one track
        whole = _track(model, "pathway", {s.key for s in model.children(top) if s.tag == "startEvent"}, set())
        return [Group("pathway", [whole, *esps], set())]
    components: list[list[Track]] = []
    for track in tracks:
        joined = [c for c in components if any(track.interferes(t) for t in c)]
        merged = [track] + [t for c in joined for t in c]
        components = [c for c in components if c not in joined] + [merged]
    result = []
    for component in components:
        members = list(component)
        for esp in esps:
            if esp.interrupting or any(esp.interferes(t) for t in component):
                members.append(esp)
        name = " + ".join(t.name.split(":", 1)[-1] for t in component)
        result.append(Group(name, members, prefix, _outside_starts(model, members, tracks + esps)))
    return result


def _outside_starts(model: PathwayModel, members: list[Track], every: list[Track]) -> dict[str, set[str]]:
    """The group's event sub-processes whose start signal only other groups' tracks throw, and that
    write something the group's tracks read (else they change nothing here): start id -> the
    names they read that only those other tracks write."""
    found: dict[str, set[str]] = {}
    thrown_here = set().union(*(t.throws for t in members))
    reads_here = set().union(*(t.reads for t in members if t.event_subprocess is None))
    written_here = set().union(*(t.writes for t in members))
    others = [t for t in every if all(t is not m for m in members)]
    for esp in (t for t in members if t.event_subprocess is not None):
        start = next((c for c in model.children(esp.event_subprocess) if c.tag == "startEvent"), None)
        if start is None or start.event_kind != "signal" or start.signal in thrown_here:
            continue
        if not any(start.signal in t.throws for t in others) or not esp.writes & reads_here:
            continue
        found[start.id] = (esp.reads & set().union(*(t.writes for t in others))) - written_here
    return found


def _split(model: PathwayModel, top: Element) -> tuple[set[Key], list[Key]]:
    """The elements before the first parallel split of the top process, and the split's branches."""
    starts = [e.key for e in model.children(top) if e.tag == "startEvent"]
    seen: set[Key] = set()
    todo = list(starts)
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        element = model.elements[key]
        successors = model.succ.get(key, [])
        if element.tag == "parallelGateway" and len(successors) > 1:
            return seen, successors
        todo.extend(successors)
    return seen, []


def _within(model: PathwayModel, roots: set[Key], stop: set[Key]) -> set[Key]:
    """Everything reachable from ``roots``: flows, boundary events, sub-process bodies, called processes."""
    def step(key: Key) -> list[Key]:
        element = model.elements.get(key)
        if element is None:
            return []
        found = list(model.succ.get(key, [])) + [b.key for b in model.boundaries.get(key, [])]
        if element.tag in ("subProcess", "transaction", "process"):
            found.extend(c.key for c in model.children(element))
        if element.tag == "callActivity" and model.called(element) is not None:
            found.append(model.called(element).key)
        return [k for k in found if k not in stop]

    return model.reachable(set(roots) - stop, step)


def _track(model: PathwayModel, name: str, roots: set[Key], stop: set[Key]) -> Track:
    track = Track(name, _within(model, roots, stop))
    _facts(model, track)
    return track


def esp_track(model: PathwayModel, esp: Element) -> Track:
    track = Track(f"event sub-process:{esp.id}", _within(model, {esp.key}, set()), event_subprocess=esp)
    _facts(model, track)
    return track


def _facts(model: PathwayModel, track: Track) -> None:
    for read in model.reads:
        if read.at.key in track.elements or read.element.key in track.elements:
            track.reads.update(path[0] for path in read.paths)
    for key in track.elements:
        track.writes.update(w.name for w in model.writes.get(key, []))
        element = model.elements.get(key)
        if element is None or element.event_kind != "signal":
            continue
        name = element.signal
        if element.tag == "intermediateThrowEvent" or element.tag == "endEvent":
            track.throws.add(name)
        else:
            track.catches.add(name)


def _merge_overlapping(tracks: list[Track]) -> list[Track]:
    merged: list[Track] = []
    for track in tracks:
        overlapping = [t for t in merged if t.elements & track.elements]
        for other in overlapping:
            merged.remove(other)
            track = Track(f"{other.name} + {track.name}", other.elements | track.elements, other.reads | track.reads,
                          other.writes | track.writes, other.throws | track.throws, other.catches | track.catches)
        merged.append(track)
    return merged


def track_endpoints(model: PathwayModel) -> dict[tuple[str, str], str]:
    """End events that end a track: the top-level process's and its interrupting event
    sub-processes' ends reached on the main flow -> their clinicalEndpoint text. Ends only reached
    through a non-interrupting boundary or event sub-process (an escalation, a handled request)
    close a side branch while the track goes on."""
    top = model.top_process()
    if top is None:
        return {}
    roots = [e.key for e in model.children(top) if e.tag == "startEvent"]
    for esp in model.children(top):
        start = next((c for c in model.children(esp) if c.tag == "startEvent"), None) \
            if esp.is_event_subprocess else None
        if start is not None and start.node.get("isInterrupting", "true") != "false":
            roots.append(start.key)
    main = model.reachable(roots, lambda key: [*model.succ.get(key, []), *(
        b.key for b in model.boundaries.get(key, []) if b.node.get("cancelActivity") != "false")])
    return {key: element_properties(model.elements[key].node).get("clinicalEndpoint", "")
            for key in main if model.elements[key].tag == "endEvent"
            and model.elements[key].event_kind not in ("error", "escalation")}

def event_subprocess_starts(model: PathwayModel) -> tuple[dict[str, str], dict[str, set[str]], set[str]]:
    """Per message that starts an event sub-process: the id of the sub-process when it does not
    interrupt, the names the sub-process reads; and the messages that start interrupting ones."""
    non_interrupting: dict[str, str] = {}
    reads: dict[str, set[str]] = {}
    interrupting: set[str] = set()
    for catcher in model.catchers:
        scope = catcher.element.scope
        if catcher.element.tag != "startEvent" or scope is None or not scope.is_event_subprocess:
            continue
        track = esp_track(model, scope)
        reads[catcher.message] = track.reads
        if track.interrupting:
            interrupting.add(catcher.message)
        else:
            non_interrupting[catcher.message] = scope.id
    return non_interrupting, reads, interrupting
