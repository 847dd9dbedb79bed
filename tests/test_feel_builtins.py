"""FEEL built-in functions (DMN 1.3 §10.3.4): results, named arguments, null on bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.feel import evaluate

D = Decimal


def ev(text: str):
    return evaluate(text, {"xs": [3, 1, 2], "name": "Ann Smith", "empty": [], "n": None})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # conversion
        ('number("12.5")', D("12.5")), ('number("-3")', D(-3)), ('number("1,000.5", ",", ".")', D("1000.5")),
        ('number("1.000,5", ".", ",")', D("1000.5")), ('number("abc")', None), ('number("NaN")', None),
        ('number("")', None), ("number(5)", None),
        ("string(1.50)", "1.5"), ("string(100)", "100"), ("string(-0.0)", "0"), ("string(true)", "true"),
        ('string("x")', "x"), ("string(null)", None), ('string([1, "a", null])', '[1, "a", null]'),
        ("string({a: 1})", "{a:1}"),
        # numbers
        ("decimal(1/3, 2)", D("0.33")), ("decimal(1.5, 0)", D(2)), ("decimal(2.5, 0)", D(2)),
        ("decimal(1.5, 0.5)", None), ("floor(1.5)", D(1)), ("floor(-1.5)", D(-2)), ("floor(1.56, 1)", D("1.5")),
        ("ceiling(1.5)", D(2)), ("ceiling(-1.5)", D(-1)), ("ceiling(1.51, 1)", D("1.6")),
        ("round up(5.5, 0)", D(6)), ("round up(-5.5, 0)", D(-6)), ("round down(5.5, 0)", D(5)),
        ("round half up(5.5, 0)", D(6)), ("round half up(-5.5, 0)", D(-6)), ("round half down(5.5, 0)", D(5)),
        ("round half up(1.125, 2)", D("1.13")), ("abs(-3)", D(3)), ("abs(3)", D(3)), ('abs("x")', None),
        ('abs(duration("-P1D"))', ev('duration("P1D")')), ("modulo(12, 5)", D(2)), ("modulo(-12, 5)", D(3)),
        ("modulo(12, -5)", D(-3)), ("modulo(10.1, 4.5)", D("1.1")), ("modulo(1, 0)", None),
        ("sqrt(16)", D(4)), ("sqrt(-1)", None), ("sqrt(2) * sqrt(2) > 1.99", True), ("odd(5)", True),
        ("even(5)", False), ("even(2.5)", None), ("log(0)", None), ("exp(0)", D(1)),
        # aggregates
        ("min([3, 1, 2])", D(1)), ("min(3, 1, 2)", D(1)), ("max(xs)", D(3)), ("max(1)", D(1)), ("min([])", None),
        ('min(["b", "a"])', "a"), ('max([1, "a"])', None), ("sum(xs)", D(6)), ("sum(1, 2.5)", D("3.5")),
        ("sum([])", None), ('sum([1, "a"])', None), ("mean(xs)", D(2)), ("mean([1, 2])", D("1.5")),
        ("mean([])", None), ("count(xs)", D(3)), ("count([])", D(0)), ("count(5)", None), ("count(n)", None),
        ("product([2, 3, 4])", D(24)), ("median([3, 1, 2])", D(2)), ("median([1, 2, 3, 4])", D("2.5")),
        ("median([])", None), ("mode([1, 2, 2, 3, 3])", [D(2), D(3)]), ("stddev([2, 4, 7, 5])", ev("sqrt(13 / 3)")),
        ("all([true, true])", True), ("all([true, false, null])", False), ("all([true, null])", None),
        ("all([])", True), ("any([false, true])", True), ("any([false, null])", None), ("any([])", False),
        ("all(true, true)", True), ("any(false)", False),
        # strings
        ('substring("foobar", 3)', "obar"), ('substring("foobar", 3, 3)', "oba"), ('substring("foobar", -2, 1)', "a"),
        ('substring("foobar", 0)', None), ('substring("foobar", 1, -1)', None),
        ('string length("foo")', D(3)), ('string length("")', D(0)), ("string length(3)", None),
        ('upper case("aBc")', "ABC"), ('lower case("aBc")', "abc"),
        ('substring before("foobar", "bar")', "foo"), ('substring before("foobar", "xyz")', ""),
        ('substring after("foobar", "ob")', "ar"), ('substring after("foobar", "")', "foobar"),
        ('substring after("foobar", "xyz")', ""),
        ('contains("foobar", "of")', False), ('contains("foobar", "ob")', True), ('starts with(name, "Ann")', True),
        ('ends with(name, "Smith")', True), ('ends with(name, "smith")', False),
        ('matches("foobar", "^fo*b")', True), ('matches("Foo", "foo", "i")', True), ('matches("x", "[")', None),
        ('matches("a\\nb", "a.b", "s")', True), ('matches("x", "x", "q")', None),
        ('replace("abcd", "(ab)|(a)", "[1=$1][2=$2]")', "[1=ab][2=]cd"), ('replace("a.b", "\\.", "-")', "a-b"),
        ('replace("AAA", "a", "b", "i")', "bbb"), ('replace("abc", "b", "\\\\$")', "a$c"),
        ('split("John Doe", "\\s")', ["John", "Doe"]), ('split("a;b;;c", ";")', ["a", "b", "", "c"]),
        ('string join(["a", "b", null], ", ")', "a, b"), ('string join(["a", "b"])', "ab"),
        # lists
        ("list contains(xs, 2)", True), ("list contains(xs, 2.0)", True), ("list contains(xs, 7)", False),
        ("list contains([null], null)", True), ('list contains(xs, "2")', False),
        ("append(xs, 4, 5)", [D(3), D(1), D(2), D(4), D(5)]), ("append([], null)", [None]),
        ("concatenate([1], [2, 3], [])", [D(1), D(2), D(3)]), ("concatenate([1], 2)", None),
        ("distinct values([1, 2.0, 2, 1, 3])", [D(1), D(2), D(3)]), ("flatten([1, [2, [3, []]]])", [D(1), D(2), D(3)]),
        ("index of([1, 2, 3, 2], 2)", [D(2), D(4)]), ("index of([1], 5)", []), ("reverse(xs)", [D(2), D(1), D(3)]),
        ("sort(xs)", [D(1), D(2), D(3)]), ('sort(["b", "a"])', ["a", "b"]), ('sort([1, "a"])', None),
        ("sort(xs, function(a, b) a > b)", [D(3), D(2), D(1)]),
        ("union([1, 2], [2, 3])", [D(1), D(2), D(3)]), ("insert before([1, 3], 2, 2)", [D(1), D(2), D(3)]),
        ("insert before([1, 3], 5, 2)", None), ("insert before([1, 3], -1, 2)", [D(1), D(2), D(3)]),
        ("remove([1, 2, 3], 2)", [D(1), D(3)]), ("remove([1, 2, 3], -1)", [D(1), D(2)]), ("remove([1], 3)", None),
        ("sublist([1, 2, 3], 2)", [D(2), D(3)]), ("sublist([1, 2, 3], 1, 2)", [D(1), D(2)]),
        ("sublist([1, 2, 3], -1)", [D(3)]), ("sublist([1, 2, 3], 4)", None),
        # context
        ('get value({a: 1}, "a")', D(1)), ('get value({a: 1}, "b")', None),
        ("get entries({a: 1})", [{"key": "a", "value": D(1)}]),
        # boolean
        ("not(1 > 2)", True), ("is defined(name)", True), ("is defined(nope)", False),
    ],
)
def test_builtin(text: str, expected) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('substring(string: "foobar", start position: 3)', "obar"),
        ('substring(start position: 2, length: 3, string: "foobar")', "oob"),
        ('date(year: 2026, month: 2, day: 3)', ev('date("2026-02-03")')),
        ('date(from: "2026-02-03")', ev('date("2026-02-03")')),
        ("list contains(list: [1, 2], element: 2)", True),
        ('number(from: "1 000", grouping separator: " ")', D(1000)),
        ('number(from: "1,5", decimal separator: ",")', D("1.5")),
        ('time(hour: 9, minute: 30, second: 0)', ev('time("09:30:00")')),
        ("decimal(n: 1.234, scale: 1)", D("1.2")),
    ],
)
def test_named_arguments(text: str, expected) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "position"),
    [('substring("x", 1, 2, 3, 4)', 0), ("string length()", 0), ("today(1)", 0), ("date(2020, 1)", 0),
     ('substring(text: "x", start position: 1)', 0), ('substring(string: "x")', 0),
     ('substring(string: "x", 1)', 23), ("count(1, 2)", 0), ("not(true, false)", 0),
     ('x + string length("a", "b")', 4), ('number(decimal separator: ",")', 0)],
)
def test_wrong_arguments_are_syntax_errors(text: str, position: int) -> None:
    from engine.feel import FeelSyntaxError, parse_expression

    with pytest.raises(FeelSyntaxError) as caught:
        parse_expression(text)
    assert caught.value.position == position


@pytest.mark.parametrize(
    "text",
    ['substring(1, 1)', 'upper case(1)', 'floor("1")', 'date("x")', 'sum("a")', 'list contains("a", 1)',
     'number(null)', 'replace(null, "a", "b")', "reverse(null)", "flatten(1)", "decimal(1, 10000)",
     "substring(\"abc\", 1.5)", "sort(xs, 1)"],
)
def test_bad_input_gives_null_not_an_exception(text: str) -> None:
    assert ev(text) is None
