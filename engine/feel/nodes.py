"""The FEEL syntax tree produced by the parser and compiled by :mod:`.evaluator`.

Nodes are plain frozen dataclasses so they can be inspected (lint: which names does a
cell use?) and compiled once into closures.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


class Node:
    """Base class of every syntax-tree node."""


@dataclass(frozen=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True)
class Name(Node):
    name: str
    pos: int = 0


@dataclass(frozen=True)
class Path(Node):
    target: Node
    key: str


@dataclass(frozen=True)
class Filter(Node):
    target: Node
    predicate: Node


@dataclass(frozen=True)
class Call(Node):
    function: str  # a built-in's FEEL name, e.g. "date and time"
    args: tuple[Node, ...]
    pos: int = 0


@dataclass(frozen=True)
class IsDefined(Node):
    arg: Node


@dataclass(frozen=True)
class Negate(Node):
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / ** = != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True)
class And(Node):
    left: Node
    right: Node


@dataclass(frozen=True)
class Or(Node):
    left: Node
    right: Node


@dataclass(frozen=True)
class Between(Node):
    value: Node
    low: Node
    high: Node


@dataclass(frozen=True)
class In(Node):
    value: Node
    tests: tuple[Node, ...]


@dataclass(frozen=True)
class InstanceOf(Node):
    value: Node
    type_name: str


@dataclass(frozen=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True)
class Range(Node):
    """``a..b`` in a ``for`` iteration context: the integers from a to b, either direction."""

    start: Node
    end: Node


@dataclass(frozen=True)
class For(Node):
    bindings: tuple[tuple[str, Node], ...]
    body: Node


@dataclass(frozen=True)
class Quantified(Node):
    every: bool
    bindings: tuple[tuple[str, Node], ...]
    body: Node


@dataclass(frozen=True)
class ListNode(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class ContextNode(Node):
    entries: tuple[tuple[str, Node], ...]


@dataclass(frozen=True)
class FunctionDef(Node):
    params: tuple[str, ...]
    body: Node


# ---- unary tests (DMN input entries and the right-hand side of ``in``)
@dataclass(frozen=True)
class CompareTest(Node):
    op: str  # < <= > >= = !=
    endpoint: Node


@dataclass(frozen=True)
class IntervalTest(Node):
    start_open: bool
    start: Node
    end: Node
    end_open: bool


@dataclass(frozen=True)
class ExpressionTest(Node):
    """A unary test that is a whole expression: ``"yes"``, ``x``, ``? > 3 and ? < 10``."""

    expr: Node
    uses_input: bool  # mentions ``?``: a boolean result is the verdict itself


@dataclass(frozen=True)
class UnaryTestsNode(Node):
    mode: str  # "any" (- or empty), "tests" (positive), "not"
    tests: tuple[Node, ...]


# ---------------------------------------------------------------- analysis
def path_of(node: Any) -> tuple[str, ...] | None:
    """The variable path a node names (``a`` -> ``("a",)``, ``a.b.c`` -> ``("a", "b", "c")``), else None."""
    keys: list[str] = []
    while isinstance(node, Path):
        keys.append(node.key)
        node = node.target
    if isinstance(node, Name):
        return (node.name, *reversed(keys))
    return None


def free_paths(node: Any, bound: frozenset[str] = frozenset()) -> set[tuple[str, ...]]:
    """Variable paths a tree reads (``threeMonth.referralDecision``), minus names bound inside it."""
    out: set[tuple[str, ...]] = set()
    _collect(node, bound, out)
    return out


def free_names(node: Node, bound: frozenset[str] = frozenset()) -> set[str]:
    """Top-level variable names a tree reads (for lint), minus names bound inside it."""
    return {path[0] for path in free_paths(node, bound)}


def _collect(node: Any, bound: frozenset[str], out: set[tuple[str, ...]]) -> None:
    path = path_of(node)
    if path is not None:
        if path[0] not in bound:
            out.add(path)
    elif isinstance(node, For | Quantified):
        inner = bound
        for name, source in node.bindings:
            _collect(source, inner, out)
            inner = inner | {name}
        _collect(node.body, inner, out)
    elif isinstance(node, Filter):
        _collect(node.target, bound, out)
        # ``item`` is the implicit element; keys of context elements cannot be known statically,
        # so other names are reported and lint may check them against the data.
        _collect(node.predicate, bound | {"item"}, out)
    elif isinstance(node, ContextNode):
        inner = bound
        for key, value in node.entries:
            _collect(value, inner, out)
            inner = inner | {key}
    elif isinstance(node, FunctionDef):
        _collect(node.body, bound | set(node.params), out)
    elif isinstance(node, Node):
        for field in fields(node):  # type: ignore[arg-type]
            _collect(getattr(node, field.name), bound, out)
    elif isinstance(node, tuple):
        for part in node:
            _collect(part, bound, out)


def uses_name(node: Any, name: str) -> bool:
    """Whether ``name`` (e.g. ``?``) occurs anywhere in the tree, bound or not."""
    if isinstance(node, Name):
        return node.name == name
    if isinstance(node, Node):
        return any(uses_name(getattr(node, f.name), name) for f in fields(node))  # type: ignore[arg-type]
    if isinstance(node, tuple):
        return any(uses_name(part, name) for part in node)
    return False
