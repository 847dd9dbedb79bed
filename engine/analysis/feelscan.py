"""What a FEEL expression or unary test reads and compares, for the static checks and the verifier.

These walk the syntax trees of :mod:`engine.feel.nodes`; nothing is evaluated. A *path* is a
variable name plus the members read from it: ``threeMonth.referralDecision`` is
``("threeMonth", "referralDecision")``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ..feel.nodes import (
    Between,
    Binary,
    Call,
    CompareTest,
    ContextNode,
    ExpressionTest,
    Filter,
    For,
    FunctionDef,
    In,
    IntervalTest,
    IsDefined,
    Literal,
    Node,
    Quantified,
    UnaryTestsNode,
    free_paths,
    path_of,
)

PathT = tuple[str, ...]
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


@dataclass(frozen=True)
class Comparison:
    """``path op value`` found in an expression (``op``: = != < <= > >= contains, starts with)."""

    path: PathT
    op: str
    value: Any


def read_paths(node: Any, bound: frozenset[str] = frozenset()) -> set[PathT]:
    """Every variable path the tree reads, minus names bound inside it (context keys, ``for``)."""
    return free_paths(node, bound)


def _walk(node: Any):
    yield node
    if isinstance(node, Node):
        for field in fields(node):  # type: ignore[arg-type]
            yield from _walk(getattr(node, field.name))
    elif isinstance(node, tuple):
        for part in node:
            yield from _walk(part)


def null_tested(node: Any) -> set[str]:
    """Roots the expression compares with ``null`` (or asks ``is defined``): it expects them unset."""
    roots: set[str] = set()
    for item in _walk(node):
        if isinstance(item, Binary) and item.op in ("=", "!="):
            for side, other in ((item.left, item.right), (item.right, item.left)):
                path = path_of(side)
                if path and isinstance(other, Literal) and other.value is None:
                    roots.add(path[0])
        elif isinstance(item, IsDefined):
            path = path_of(item.arg)
            if path:
                roots.add(path[0])
    return roots


def implied_set(node: Any) -> set[str]:
    """Roots that must be set (not null) whenever the condition is true: ``x != null``, ``x = "A"``,
    ``x > 3``, ``list contains(x, ..)`` in a conjunction; a disjunction implies what all its sides do."""
    from ..feel.nodes import And, Or

    if isinstance(node, And):
        return implied_set(node.left) | implied_set(node.right)
    if isinstance(node, Or):
        return implied_set(node.left) & implied_set(node.right)
    if isinstance(node, Binary) and node.op in _FLIP:
        for side, other in ((node.left, node.right), (node.right, node.left)):
            path = path_of(side)
            if not path or not isinstance(other, Literal):
                continue
            if (other.value is None and node.op == "!=") or (other.value is not None and node.op != "!="):
                return {path[0]}
        return set()
    if isinstance(node, Call) and node.function in ("list contains", "starts with") and node.args:
        path = path_of(node.args[0])
        return {path[0]} if path else set()
    path = path_of(node)
    return {path[0]} if path else set()


def comparisons(node: Any) -> list[Comparison]:
    """``path op literal`` comparisons, ``list contains(path, literal)`` and ``starts with``."""
    found: list[Comparison] = []
    for item in _walk(node):
        if isinstance(item, Binary) and item.op in _FLIP:
            left, right = path_of(item.left), path_of(item.right)
            if left and isinstance(item.right, Literal):
                found.append(Comparison(left, item.op, item.right.value))
            elif right and isinstance(item.left, Literal):
                found.append(Comparison(right, _FLIP[item.op], item.left.value))
        elif isinstance(item, Call) and item.function in ("list contains", "starts with") and len(item.args) == 2:
            path = path_of(item.args[0])
            if path and isinstance(item.args[1], Literal):
                op = "contains" if item.function == "list contains" else "starts with"
                found.append(Comparison(path, op, item.args[1].value))
        elif isinstance(item, Between):
            path = path_of(item.value)
            if path:
                for op, bound in ((">=", item.low), ("<=", item.high)):
                    if isinstance(bound, Literal):
                        found.append(Comparison(path, op, bound.value))
        elif isinstance(item, In):
            path = path_of(item.value)
            if path:
                for test in item.tests:
                    found.extend(Comparison(path, op, value) for op, value in _test_literals(test))
    return found


def opaque_paths(node: Any) -> set[PathT]:
    """Paths read other than by comparing them with a literal (their value flows somewhere)."""
    compared: set[int] = set()
    for item in _walk(node):
        if isinstance(item, Binary) and item.op in _FLIP:
            for side, other in ((item.left, item.right), (item.right, item.left)):
                if path_of(side) and isinstance(other, Literal):
                    compared.add(id(side))
        elif isinstance(item, Call) and item.function in ("list contains", "starts with") and len(item.args) == 2:
            if path_of(item.args[0]) and isinstance(item.args[1], Literal):
                compared.add(id(item.args[0]))
    out: set[PathT] = set()
    _opaque(node, frozenset(), out, compared)
    return out


def _opaque(node: Any, bound: frozenset[str], out: set[PathT], compared: set[int]) -> None:
    if id(node) in compared:
        return
    path = path_of(node)
    if path is not None:
        if path[0] not in bound:
            out.add(path)
        return
    if isinstance(node, ContextNode | For | Quantified | Filter | FunctionDef):
        out.update(read_paths(node, bound))
    elif isinstance(node, Node):
        for field in fields(node):  # type: ignore[arg-type]
            _opaque(getattr(node, field.name), bound, out, compared)
    elif isinstance(node, tuple):
        for part in node:
            _opaque(part, bound, out, compared)


def unary_literals(tests: UnaryTestsNode) -> list[tuple[str, Any]]:
    """``(op, literal)`` pairs a DMN input entry compares its input with (``"a","b"`` gives two
    ``=``; ``[1..5]`` gives ``>= 1`` and ``<= 5``; ``not(...)`` the same pairs as its inside)."""
    pairs: list[tuple[str, Any]] = []
    for test in tests.tests:
        pairs.extend(_test_literals(test))
    return pairs


def _test_literals(test: Any) -> list[tuple[str, Any]]:
    if isinstance(test, CompareTest) and isinstance(test.endpoint, Literal):
        return [(test.op, test.endpoint.value)]
    if isinstance(test, IntervalTest):
        pairs = []
        if isinstance(test.start, Literal):
            pairs.append((">" if test.start_open else ">=", test.start.value))
        if isinstance(test.end, Literal):
            pairs.append(("<" if test.end_open else "<=", test.end.value))
        return pairs
    if isinstance(test, ExpressionTest):
        if isinstance(test.expr, Literal):
            return [("=", test.expr.value)]
        if test.uses_input:
            return [(c.op, c.value) for c in comparisons(test.expr) if c.path == ("?",)]
    if isinstance(test, Literal):
        return [("=", test.value)]
    return []


def literal_only(tests: UnaryTestsNode) -> bool:
    """True when every test compares the input with literals (``"a"``, ``< 3``, ``[1..5]``)."""
    def plain(test: Any) -> bool:
        if isinstance(test, CompareTest):
            return isinstance(test.endpoint, Literal)
        if isinstance(test, IntervalTest):
            return isinstance(test.start, Literal) and isinstance(test.end, Literal)
        return isinstance(test, ExpressionTest) and isinstance(test.expr, Literal)
    return all(plain(t) for t in tests.tests)


def unary_paths(tests: UnaryTestsNode) -> set[PathT]:
    """Variables a unary test reads besides its input ``?``."""
    return {p for p in read_paths(tests) if p[0] != "?"}
