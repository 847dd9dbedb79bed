"""Public entry points: parse once (at deploy), evaluate many times.

``parse_expression`` / ``parse_unary_tests`` return objects holding compiled closures;
``evaluate`` is a convenience that caches parsed text.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ..clock import Clock, SystemClock
from .errors import FeelEvaluationError, FeelSyntaxError
from .evaluator import Env, compile_node
from .nodes import Node, UnaryTestsNode, free_names
from .parser import Parser
from .unary import compile_unary_tests
from .values import to_feel

_SYSTEM_CLOCK = SystemClock()
_EMPTY: Mapping[str, Any] = {}


def strip_wrapper(text: str) -> str:
    """Bare FEEL from Camunda 7 ``${ ... }`` (or ``#{ ... }``) and Camunda 8 ``= ...`` forms."""
    start, end = _wrapper_span(text, allow_equals=True)
    return text[start:end].strip()


def _wrapper_span(text: str, allow_equals: bool) -> tuple[int, int]:
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    if stripped[:2] in ("${", "#{") and stripped.endswith("}"):
        return lead + 2, lead + len(stripped) - 1
    if allow_equals and stripped.startswith("=") and not stripped.startswith("=="):
        return lead + 1, lead + len(stripped)
    return 0, len(text)


def _blank_wrapper(text: str, allow_equals: bool) -> str:
    """The text with wrapper characters replaced by spaces, so error positions still index ``text``."""
    start, end = _wrapper_span(text, allow_equals)
    return " " * start + text[start:end] + " " * (len(text) - end)


def _guarded_parse(text: str, parse):
    try:
        return parse()
    except RecursionError:
        raise FeelSyntaxError("expression is nested too deeply", text, 0) from None


class Expression:
    """A parsed FEEL expression. Thread-safe: evaluation keeps its state in a fresh environment."""

    __slots__ = ("source", "node", "_fn", "_names")

    def __init__(self, source: str, node: Node) -> None:
        self.source = source
        self.node = node
        self._fn = compile_node(node)
        self._names = frozenset(free_names(node))

    def evaluate(self, context: Mapping[str, Any] | None = None, clock: Clock | None = None) -> Any:
        """The FEEL value (Decimal, str, bool, None, date, ...). Python values in ``context`` are
        converted on first use; an unknown name is null."""
        env = Env(_EMPTY if context is None else context, clock or _SYSTEM_CLOCK)
        return _run(self, lambda: self._fn(env))

    def names(self) -> set[str]:
        """Variable names the expression reads from its context (for lint)."""
        return set(self._names)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


class UnaryTests:
    """A parsed DMN input entry (unary tests) such as ``[1..5], > 10`` or ``not("x")``."""

    __slots__ = ("source", "node", "_fn", "_names")

    def __init__(self, source: str, node: UnaryTestsNode) -> None:
        self.source = source
        self.node = node
        self._fn = compile_unary_tests(node)
        self._names = frozenset(free_names(node) - {"?"})

    def matches(self, value: Any, context: Mapping[str, Any] | None = None, clock: Clock | None = None) -> bool:
        """Whether the input ``value`` satisfies the tests; ``?`` in the tests is the input."""
        feel_value = to_feel(value)
        env = Env(_EMPTY if context is None else context, clock or _SYSTEM_CLOCK, {"?": feel_value})
        return _run(self, lambda: self._fn(feel_value, env))

    @property
    def matches_anything(self) -> bool:
        """True for ``-`` and the empty cell (lets a decision table skip the input)."""
        return self.node.mode == "any"

    def names(self) -> set[str]:
        """Variable names the tests read besides the input ``?`` (for lint)."""
        return set(self._names)

    def __repr__(self) -> str:
        return f"UnaryTests({self.source!r})"


def _run(owner: Expression | UnaryTests, thunk):
    try:
        return thunk()
    except FeelEvaluationError:
        raise
    except RecursionError:
        raise FeelEvaluationError(f"nesting too deep while evaluating {owner.source!r}") from None
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError, IndexError) as exc:
        # Operators and built-ins already turn bad input into null; reaching here is a bug in this
        # package, reported with the expression so a model author is not left guessing.
        raise FeelEvaluationError(f"internal error evaluating {owner.source!r}: {exc!r}") from exc


def parse_expression(text: str) -> Expression:
    """Parse FEEL (optionally wrapped as ``${...}`` or ``=...``); raise :class:`FeelSyntaxError`."""
    if not isinstance(text, str):
        raise TypeError("FEEL text must be a string")

    def parse() -> Expression:
        parser = Parser(text, _blank_wrapper(text, allow_equals=True))
        if parser.peek().kind == "end":
            raise parser.error("empty expression")
        node = parser.expression()
        parser.expect_end()
        return Expression(text, node)
    return _guarded_parse(text, parse)


def parse_unary_tests(text: str) -> UnaryTests:
    """Parse a DMN input entry; ``-`` and the empty string match anything."""
    if not isinstance(text, str):
        raise TypeError("FEEL text must be a string")

    def parse() -> UnaryTests:
        parser = Parser(text, _blank_wrapper(text, allow_equals=False))
        return UnaryTests(text, parser.unary_tests())
    return _guarded_parse(text, parse)


@functools.lru_cache(maxsize=2048)
def _cached_expression(text: str) -> Expression:
    return parse_expression(text)


def evaluate(text: str, context: Mapping[str, Any] | None = None, clock: Clock | None = None) -> Any:
    """Parse (cached) and evaluate in one call; prefer :func:`parse_expression` at deploy time."""
    return _cached_expression(text).evaluate(context, clock)
