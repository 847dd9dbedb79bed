"""FEEL (DMN 1.3, Camunda 7 flavour): our own parser and evaluator, never Python ``eval``.

Parse once at deploy with :func:`parse_expression` / :func:`parse_unary_tests`, then
evaluate many times. Values: numbers are ``Decimal``; see :mod:`engine.feel.values`.
"""

from .api import Expression, UnaryTests, evaluate, parse_expression, parse_unary_tests, strip_wrapper
from .errors import FeelError, FeelEvaluationError, FeelSyntaxError
from .values import YearsMonthsDuration, to_feel, to_python

__all__ = [
    "Expression", "FeelError", "FeelEvaluationError", "FeelSyntaxError", "UnaryTests", "YearsMonthsDuration",
    "evaluate", "parse_expression", "parse_unary_tests", "strip_wrapper", "to_feel", "to_python",
]
