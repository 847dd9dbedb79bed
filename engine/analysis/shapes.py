"""The shape of a pathway variable as its writers give it: a value (with allowed values when they
are known), a record of named members (a decision's ``singleResult``), a list of values or a
list of records (``collectEntries``, ``resultList``)."""

from __future__ import annotations

from dataclasses import dataclass, field

# FEEL members of temporal values (``date.year``, ``duration.months`` ...): never "unknown".
TEMPORAL_MEMBERS = frozenset({"year", "month", "day", "weekday", "hour", "minute", "second", "timezone",
                              "time offset", "years", "months", "days", "hours", "minutes", "seconds"})


@dataclass(frozen=True)
class Shape:
    kind: str  # "value", "record", "list", "records" or "any" (unknown: payloads, broken decisions)
    type: str | None = None  # FEEL/form type of a value (string, boolean, number, date, enum ...)
    values: frozenset[str] | None = None  # allowed values, when the writer lists them
    members: dict[str, Shape] | None = field(default=None, hash=False, compare=False)
    nullable: bool = False

    def member(self, key: str) -> Shape | None:
        """The shape of ``self.key``; None when this shape has no such member."""
        if self.kind == "any":
            return Shape("any")
        if self.kind in ("record", "records") and self.members is not None:
            inner = self.members.get(key)
            if inner is None:
                return None
            if self.kind == "records":  # FEEL projects a path over a list of contexts
                return Shape("list", type=inner.type, values=inner.values)
            return inner
        if self.kind == "value" and (self.type in ("date", "date and time", "time", "duration") or self.type is None):
            return Shape("any") if key in TEMPORAL_MEMBERS else None
        return None

    def member_names(self) -> list[str]:
        return sorted(self.members or {})


def merge(shapes: list[Shape]) -> Shape:
    """One shape for a variable with several writers: members and allowed values are unions; a
    writer with unknown values makes the values unknown."""
    if not shapes:
        return Shape("any")
    if len(shapes) == 1:
        return shapes[0]
    kinds = {s.kind for s in shapes}
    if "any" in kinds or len(kinds) > 1:
        return Shape("any")
    kind = shapes[0].kind
    types = {s.type for s in shapes}
    values = None if any(s.values is None for s in shapes) else frozenset().union(*(s.values for s in shapes))
    members = None
    if kind in ("record", "records"):
        members = {}
        for shape in shapes:
            for name, inner in (shape.members or {}).items():
                members[name] = merge([members[name], inner]) if name in members else inner
    return Shape(kind, type=types.pop() if len(types) == 1 else None, values=values, members=members,
                 nullable=any(s.nullable for s in shapes))
