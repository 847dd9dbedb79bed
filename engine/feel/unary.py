"""DMN unary tests (decision-table input entries) and the right-hand side of ``x in ...``.

Forms: ``-`` or empty (anything), comparisons ``< 3``, intervals ``[a..b]`` ``]a..b[``
``(a..b)`` and mixes, literals/expressions compared with the input (``"yes"``, ``null``,
``date("2020-01-01")``), lists of those (``"a","b"``, ``[1..5], > 10``), ``not(...)`` of a list,
and expressions over the input ``?`` (``? > 3 and ? < 10``, ``count(?) > 2``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import ops
from .errors import FeelSyntaxError
from .evaluator import Env, compile_node
from .lexer import EOF, OP, describe
from .nodes import CompareTest, ExpressionTest, IntervalTest, Literal, Node, UnaryTestsNode, uses_name

if TYPE_CHECKING:
    from .parser import Parser

TestFn = Callable[[Any, Env], "bool | None"]
COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})


class UnaryTestSyntax:
    """Parser methods for unary tests; mixed into :class:`.parser.Parser`."""

    def unary_tests(self: Parser) -> UnaryTestsNode:
        if self.peek().kind == EOF:
            return UnaryTestsNode("any", ())
        if self.at_op("-") and self.peek(1).kind == EOF:
            return UnaryTestsNode("any", ())
        if self.at_word("not") and self.at_op_ahead(1, "("):
            start = self.i
            try:
                self.i += 2
                tests = self.positive_unary_tests(full=True)
                self.expect_op(")")
                self.expect_end()
                return UnaryTestsNode("not", tests)
            except FeelSyntaxError as first:
                # not(...) may also be the start of a boolean expression: "not(? > 3) and ? < 10"
                self.i = start
                try:
                    return self._positive_tests_to_end()
                except FeelSyntaxError:
                    raise first from None
        return self._positive_tests_to_end()

    def _positive_tests_to_end(self: Parser) -> UnaryTestsNode:
        tests = self.positive_unary_tests(full=True)
        self.expect_end()
        return UnaryTestsNode("tests", tests)

    def positive_unary_tests(self: Parser, full: bool) -> tuple[Node, ...]:
        tests = [self.positive_unary_test(full)]
        while self.at_op(","):
            self.advance()
            tests.append(self.positive_unary_test(full))
        return tuple(tests)

    def positive_unary_test(self: Parser, full: bool) -> Node:
        token = self.peek()
        if token.kind == OP and token.value in COMPARISONS:
            self.advance()
            return CompareTest(token.value, self.additive())
        if token.kind == OP and token.value in ("[", "]", "("):
            interval = self.try_interval()
            if interval is not None:
                return interval
            if token.value == "]":
                raise self.error("expected an interval such as ]1..5[")
        expr = self.expression() if full else self.additive()
        return ExpressionTest(expr, uses_name(expr, "?"))

    def try_interval(self: Parser) -> IntervalTest | None:
        start = self.i
        opener = self.advance()
        try:
            low = self.additive()
        except FeelSyntaxError:
            self.i = start
            return None
        if not self.at_op(".."):
            self.i = start
            return None
        self.advance()
        saved, self.no_filter = self.no_filter, True
        try:
            high = self.additive()
        finally:
            self.no_filter = saved
        closer = self.peek()
        if not (closer.kind == OP and closer.value in ("]", ")", "[")):
            raise self.error(f"expected ']', ')' or '[' to close the interval, found {describe(closer)}")
        self.advance()
        return IntervalTest(opener.value in ("(", "]"), low, high, closer.value in (")", "["))


_TEST_OPS = {"<": ops.less, "<=": ops.less_equal, ">": ops.greater, ">=": ops.greater_equal,
             "=": ops.equal, "!=": ops.not_equal}


def compile_test(node: Node, in_expression: bool = False) -> TestFn:
    """Compile one positive unary test to ``test(input, env) -> True/False/None``."""
    if isinstance(node, CompareTest):
        op, endpoint = _TEST_OPS[node.op], compile_node(node.endpoint)
        return lambda value, env: op(value, endpoint(env))
    if isinstance(node, IntervalTest):
        low_op = ops.greater if node.start_open else ops.greater_equal
        high_op = ops.less if node.end_open else ops.less_equal
        low, high = compile_node(node.start), compile_node(node.end)
        return lambda value, env: ops.and3(low_op(value, low(env)), high_op(value, high(env)))
    if isinstance(node, ExpressionTest):
        return _expression_test(node, in_expression)
    raise TypeError(f"not a unary test: {type(node).__name__}")


def _contains(values: list[Any], value: Any) -> bool:
    return any(ops.equal(v, value) is True for v in values)


def _expression_test(node: ExpressionTest, in_expression: bool) -> TestFn:
    expr, uses_input = compile_node(node.expr), node.uses_input
    # A literal true/false is compared with the input; other boolean results are verdicts.
    literal_bool = isinstance(node.expr, Literal) and isinstance(node.expr.value, bool)

    def test(value: Any, env: Env) -> bool | None:
        result = expr(env)
        if uses_input and not in_expression:
            if isinstance(result, bool):
                return result  # "? > 3 and ? < 10" is a predicate on the input
            if result is None:
                return None  # e.g. "? > 3" with a null input
        elif isinstance(result, bool) and not in_expression and not literal_bool:
            if value is not None and not isinstance(value, bool):
                return result  # Camunda: a boolean expression decides for a non-boolean input
        if isinstance(result, list) and (in_expression or not isinstance(value, list)):
            if _contains(result, value):
                return True
            if not isinstance(value, list):
                return False
        return ops.equal(value, result)
    return test


def compile_unary_tests(node: UnaryTestsNode) -> Callable[[Any, Env], bool]:
    if node.mode == "any":
        return lambda value, env: True
    tests = [compile_test(t) for t in node.tests]
    if node.mode == "not":
        def negated(value: Any, env: Env) -> bool:
            verdict = ops.any3([t(value, env) for t in tests])
            return verdict is False  # not(null) is null, which does not match
        return negated
    return lambda value, env: any(t(value, env) is True for t in tests)
