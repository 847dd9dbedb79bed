"""DMN input entries (unary tests): every form, with matching, non-matching and null inputs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.feel import FeelSyntaxError, parse_unary_tests

D = Decimal


def match(text: str, value, **context) -> bool:
    return parse_unary_tests(text).matches(value, context)


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        # comparisons
        ("< 3", 2, True), ("< 3", 3, False), ("< 3", D("2.99"), True),
        ("<= 3.5", D("3.5"), True), ("<= 3.5", 3.6, False), ("<= 3.5", 3, True),
        ("> 3", 4, True), ("> 3", 3, False),
        (">= 3.5", 3, False), (">= 3.5", 4, True), (">= 3.5", 3.5, True), (">= 3.5", D("3.50"), True),
        (">= -2.5", -2.5, True), ("< -1", -2, True),
        ('>= date("2020-01-01")', date(2020, 1, 1), True),
        ('>= date("2020-01-01")', date(2019, 12, 31), False),
        ('< date("2020-01-01")', date(2019, 12, 31), True),
        # equality by literal
        ('"yes"', "yes", True), ('"yes"', "no", False), ('"yes"', "Yes", False),
        ("3", 3, True), ("3", D("3.0"), True), ("3.0", 3, True), ("3", 4, False),
        ("true", True, True), ("true", False, False), ("false", False, True), ("false", True, False),
        ("null", None, True), ("null", 0, False), ("null", "", False), ("null", False, False),
        ('date("2020-01-01")', date(2020, 1, 1), True), ('date("2020-01-01")', date(2020, 1, 2), False),
        # lists
        ('"a","b"', "a", True), ('"a","b"', "b", True), ('"a","b"', "c", False),
        ('"a", "b"', "b", True),
        ("1,2,3", 2, True), ("1,2,3", 4, False), ("1, 2, 3", D("3.0"), True),
        ("[1..5], > 10", 3, True), ("[1..5], > 10", 11, True), ("[1..5], > 10", 7, False),
        ("< 0, null", None, True), ("< 0, null", -1, True), ("< 0, null", 1, False),
        # negation
        ('not("x")', "y", True), ('not("x")', "x", False),
        ('not("x","y")', "z", True), ('not("x","y")', "x", False), ('not("x","y")', "y", False),
        ("not([1..5])", 6, True), ("not([1..5])", 5, False), ("not([1..5])", 1, False),
        ("not(< 3)", 3, True), ("not(< 3)", 2, False),
        ("not(null)", 1, True), ("not(null)", None, False),
        ("not(1, 2)", 3, True), ("not( 1 , 2 )", 2, False),
        # anything
        ("-", None, True), ("-", 5, True), ("-", "x", True), (" - ", date(2020, 1, 1), True),
        ("", None, True), ("", 5, True), ("   ", "x", True),
        # expressions over the input
        ("? > 3 and ? < 10", 5, True), ("? > 3 and ? < 10", 3, False), ("? > 3 and ? < 10", 10, False),
        ("count(?) > 2", [1, 2, 3], True), ("count(?) > 2", [1, 2], False),
        ('list contains(?, "x")', ["a", "x"], True), ('list contains(?, "x")', ["a"], False),
        ("? = false", False, True), ("? = false", True, False),
        ("not(? > 3) and ? < 10", 2, True), ("not(? > 3) and ? < 10", 4, False),
        ('starts with(?, "ab")', "abc", True),
        ("? in [1..3]", 2, True), ("? in [1..3]", 4, False),
        ("string length(?) >= 2", "ab", True),
    ],
)
def test_unary_forms(text: str, value, expected: bool) -> None:
    assert match(text, value) is expected


INTERVALS = {
    # form: (matches 1, matches 3, matches 5, matches 0, matches 6)
    "[1..5]": (True, True, True, False, False),
    "]1..5[": (False, True, False, False, False),
    "(1..5)": (False, True, False, False, False),
    "[1..5)": (True, True, False, False, False),
    "(1..5]": (False, True, True, False, False),
    "]1..5]": (False, True, True, False, False),
    "[1..5[": (True, True, False, False, False),
}


@pytest.mark.parametrize("form", sorted(INTERVALS))
@pytest.mark.parametrize("value_index", range(5))
def test_interval_endpoints(form: str, value_index: int) -> None:
    value = (1, 3, 5, 0, 6)[value_index]
    assert match(form, value) is INTERVALS[form][value_index]


@pytest.mark.parametrize("form", sorted(INTERVALS))
def test_interval_with_null_or_other_type_never_matches(form: str) -> None:
    assert match(form, None) is False
    assert match(form, "3") is False


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("(-2.5..-1.0)", D("-2.0"), True), ("(-2.5..-1.0)", -2.5, False), ("(-2.5..-1.0)", -1, False),
        ("[20..30)", 29.9, True), ("[20..30)", 30, False),
        ('[date("2020-01-01")..date("2020-12-31")]', date(2020, 6, 1), True),
        ('[date("2020-01-01")..date("2020-12-31")]', date(2021, 1, 1), False),
        ('["a".."c"]', "b", True), ('["a".."c"]', "d", False),
        ("[low..high]", 5, True), ("[low..high]", 11, False),
        ("[low+1..high-1]", 1, False), ("[low+1..high-1]", 2, True),
    ],
)
def test_interval_endpoint_kinds(text: str, value, expected: bool) -> None:
    assert match(text, value, low=1, high=10) is expected


@pytest.mark.parametrize(
    ("text", "value"),
    [("< 3", None), ("<= 3", None), ("> 3", None), (">= 3", None), ('>= date("2020-01-01")', None),
     ("[1..5]", None), ('"a","b"', None), ("3", None), ("true", None), ("false", None),
     ("? > 3", None), ("count(?) > 2", None)],
)
def test_null_input_matches_only_null_tests(text: str, value) -> None:
    assert match(text, value) is False


@pytest.mark.parametrize(
    ("text", "value"),
    [("< 3", "2"), ("> 3", "a"), ('"3"', 3), ("3", "3"), ("[1..5]", "3"), ('< "b"', 1),
     ("true", "true"), ('date("2020-01-01")', "2020-01-01"), ("> 3", True), ('< date("2020-01-01")', 3)],
)
def test_type_mismatch_is_no_match_not_an_error(text: str, value) -> None:
    assert match(text, value) is False


def test_comparison_against_a_variable_and_with_context() -> None:
    tests = parse_unary_tests(">= vasThreshold")
    assert tests.matches(4, {"vasThreshold": 3.5}) is True
    assert tests.matches(3, {"vasThreshold": 3.5}) is False
    assert tests.matches(4, {}) is False  # unknown threshold is null: no match
    assert tests.names() == {"vasThreshold"}


def test_boolean_expression_decides_for_non_boolean_input() -> None:
    # Camunda: a test that evaluates to a boolean (and is not a literal) decides by itself.
    assert match("flag", 7, flag=True) is True
    assert match("flag", 7, flag=False) is False
    # ...but a boolean input is compared with it.
    assert match("flag", False, flag=False) is True
    assert match("flag", True, flag=False) is False


def test_expression_yielding_a_list_matches_members() -> None:
    assert match("allowed", "b", allowed=["a", "b"]) is True
    assert match("allowed", "c", allowed=["a", "b"]) is False
    assert match("allowed", ["a", "b"], allowed=["a", "b"]) is True


def test_equality_and_inequality_operators_in_tests() -> None:
    assert match("= 3", 3) is True
    assert match("!= 3", 3) is False
    assert match("!= 3", 4) is True


def test_matches_anything_flag() -> None:
    assert parse_unary_tests("-").matches_anything is True
    assert parse_unary_tests("").matches_anything is True
    assert parse_unary_tests("- 1").matches_anything is False


def test_camunda7_wrapper_is_accepted_in_tests() -> None:
    assert match("${< 3}", 2) is True


@pytest.mark.parametrize(
    ("text", "position"),
    [("[1..5", 5), ("]1..5", 5), ("< ", 2), ('"a",', 4), ("not(1,", 6), ("[1..5]]", 6),
     ('"a" "b"', 4), ("1..5", 1)],
)
def test_syntax_errors_point_at_the_problem(text: str, position: int) -> None:
    with pytest.raises(FeelSyntaxError) as caught:
        parse_unary_tests(text)
    assert caught.value.position == position, str(caught.value)
    assert caught.value.source == text


def test_parse_once_match_many() -> None:
    tests = parse_unary_tests("[18..65), > 80")
    results = [tests.matches(age) for age in range(100)]
    assert sum(results) == (65 - 18) + (99 - 80)
