"""Public API of engine.feel: wrappers, syntax errors with positions, conversions, safety, speed."""

from __future__ import annotations

import builtins
import pickle
import time as systime
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

import engine.feel as feel
from engine.feel import (
    Expression,
    FeelError,
    FeelEvaluationError,
    FeelSyntaxError,
    UnaryTests,
    YearsMonthsDuration,
    evaluate,
    parse_expression,
    parse_unary_tests,
    strip_wrapper,
    to_feel,
    to_python,
)
from engine.isotime import parse_duration

D = Decimal


def test_public_names() -> None:
    for name in ("FeelError", "FeelSyntaxError", "FeelEvaluationError", "parse_expression", "parse_unary_tests",
                 "Expression", "UnaryTests", "evaluate", "strip_wrapper", "YearsMonthsDuration", "to_feel",
                 "to_python"):
        assert hasattr(feel, name), name
    assert issubclass(FeelSyntaxError, FeelError) and issubclass(FeelEvaluationError, FeelError)
    assert isinstance(parse_expression("1"), Expression) and isinstance(parse_unary_tests("1"), UnaryTests)
    assert parse_expression(" a + 1 ").source == " a + 1 "


@pytest.mark.parametrize(
    ("text", "bare"),
    [("${ x > 3 }", "x > 3"), ("${x}", "x"), ("  ${ a and b }  ", "a and b"), ("#{x}", "x"), ("= x + 1", "x + 1"),
     ("=x", "x"), ("x > 3", "x > 3"), ("{a: 1}", "{a: 1}"), ("", "")],
)
def test_strip_wrapper(text: str, bare: str) -> None:
    assert strip_wrapper(text) == bare


@pytest.mark.parametrize(
    ("text", "value"),
    [("${ x > 3 }", True), ("= x + 1", D(5)), ("${date(\"2026-01-01\") + duration(\"P1M\")}", date(2026, 2, 1))],
)
def test_wrapped_expressions_parse(text: str, value) -> None:
    assert evaluate(text, {"x": 4}) == value


def test_wrapped_expression_errors_index_the_original_text() -> None:
    with pytest.raises(FeelSyntaxError) as caught:
        parse_expression("${ a > (3)) }")
    assert caught.value.position == 10
    assert caught.value.source == "${ a > (3)) }"


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("a > (3))", 7, "unexpected ')'"),
        ("(a > 3", 6, "expected ')'"),
        ("a >", 3, "unexpected end of input"),
        ("", 0, "empty expression"),
        ("   ", 3, "empty expression"),
        ('"open', 0, "unterminated string"),
        ("a == 3", 2, "FEEL uses '=' for equality"),
        ("a && b", 2, "FEEL uses 'and'"),
        ("a || b", 2, "FEEL uses 'or'"),
        ("!a", 0, "not(...)"),
        ('dateAdd(fractureDate, "P6W")', 0, "unknown function 'dateAdd'"),
        ("x = 'yes'", 4, "double quotes"),
        ("x + foo(1)", 4, "unknown function 'foo'"),
        ("patient.getAge()", 14, "only built-in functions"),
        ("[1, 2", 5, "expected ','"),
        ("{a: 1, a: 2}", 7, "duplicate context key"),
        ("{a 1}", 3, "expected ':'"),
        ("if x then 1", 11, "expected 'else'"),
        ("for x in xs", 11, "expected 'return'"),
        ("Patient Age > 3", 8, "back-quotes"),
        ("1 $ 2", 2, "unexpected character '$'"),
        ("x in", 4, "unexpected end of input"),
        ('@"2026-13-01"', 0, "invalid date"),
        ("a and", 5, "unexpected end of input"),
        ("a.", 2, "expected a name"),
        ("f(", 0, "unknown function 'f'"),
        ("[1,]", 3, "unexpected ']'"),
        ("x between 1", 11, "expected 'and'"),
        ("x instance of numbr", 14, "expected a type name"),
        ("1..5", 1, "unexpected '..'"),
    ],
)
def test_syntax_errors_carry_position_and_message(text: str, position: int, message: str) -> None:
    with pytest.raises(FeelSyntaxError) as caught:
        parse_expression(text)
    error = caught.value
    assert error.position == position, str(error)
    assert message in error.message
    assert error.source == text
    assert f"at position {position} in: {text}" in str(error)


def test_error_text_has_a_caret_under_the_position() -> None:
    with pytest.raises(FeelSyntaxError) as caught:
        parse_expression("a > (3))")
    first, caret = str(caught.value).split("\n")
    assert first == "unexpected ')' at position 7 in: a > (3))"
    assert caret.index("^") == first.index("a > (3))") + 7


def test_syntax_error_pickles() -> None:
    with pytest.raises(FeelSyntaxError) as caught:
        parse_expression("a >")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.message, copy.source, copy.position) == (caught.value.message, "a >", 3)


def test_non_string_text_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_expression(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    ['__import__("os").system("echo pwned")', "__import__('os')", 'exec("1")', 'eval("1+1")', "open(\"/etc/passwd\")",
     "x.__class__", "().__class__.__bases__", "lambda: 1", "import os", "os.system"],
)
def test_no_python_eval(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args, **kwargs):
        raise AssertionError("Python eval/exec must never run user text")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "__import__", _guarded_import(builtins.__import__))
    try:
        result = evaluate(text, {"x": 1, "os": None})
    except FeelSyntaxError:
        return
    assert result is None


def _guarded_import(real):
    def guarded(name, *args, **kwargs):
        if name in ("os", "subprocess"):
            raise AssertionError(f"user text imported {name}")
        return real(name, *args, **kwargs)
    return guarded


def test_package_source_never_calls_eval_or_exec() -> None:
    import pathlib
    import re

    source_dir = pathlib.Path(feel.__file__).parent
    pattern = re.compile(r"(?<![\w.])(eval|exec|compile|__import__)\s*\(")
    for path in source_dir.glob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            assert not pattern.search(code) or "re.compile" in code, f"{path.name}:{number}: {line}"


@pytest.mark.parametrize(
    ("python", "feel_value"),
    [
        (3, D(3)), (3.5, D("3.5")), (0.1, D("0.1")), (True, True), (None, None), ("s", "s"), (D("1.0"), D("1.0")),
        (float("nan"), None), (float("inf"), None), ([1, (2, 3)], [D(1), [D(2), D(3)]]),
        ({"a": {"b": 1.25}}, {"a": {"b": D("1.25")}}), ((1,), [D(1)]),
        (date(2026, 1, 1), date(2026, 1, 1)), (timedelta(days=1), timedelta(days=1)),
        (parse_duration("P3M"), YearsMonthsDuration(3)), (parse_duration("P6W"), timedelta(weeks=6)),
        (parse_duration("P1M1D"), None),
    ],
)
def test_to_feel(python, feel_value) -> None:
    converted = to_feel(python)
    assert converted == feel_value
    assert type(converted) is type(feel_value)


@pytest.mark.parametrize(
    ("feel_value", "python"),
    [
        (D(3), 3), (D("3.0"), 3), (D("1E+2"), 100), (D("2.5"), D("2.5")), (YearsMonthsDuration(14), "P1Y2M"),
        (timedelta(days=42), "P42D"), (timedelta(hours=-36), "-P1DT12H"), (timedelta(0), "PT0S"),
        ([D(1), {"a": D("1.5")}], [1, {"a": D("1.5")}]), (date(2026, 1, 1), date(2026, 1, 1)),
        (datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 9)), (None, None), ("x", "x"), (True, True),
    ],
)
def test_to_python(feel_value, python) -> None:
    converted = to_python(feel_value)
    assert converted == python
    assert type(converted) is type(python)


def test_years_months_duration_value_type() -> None:
    value = YearsMonthsDuration(14)
    assert value.months == 14 and value.years == 1 and str(value) == "P1Y2M"
    assert YearsMonthsDuration(-1) < YearsMonthsDuration(0)
    assert hash(YearsMonthsDuration(3)) == hash(YearsMonthsDuration(3))
    with pytest.raises(AttributeError):
        value.months = 1  # type: ignore[misc]


def test_evaluate_caches_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.feel import api

    calls = []
    real = api.Parser

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            calls.append(args[0])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(api, "Parser", Counting)
    api._cached_expression.cache_clear()
    for value in range(50):
        assert evaluate("cache_probe + 1", {"cache_probe": value}) == D(value + 1)
    assert calls == ["cache_probe + 1"]


def test_evaluation_does_not_reparse(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.feel import lexer, parser

    expression = parse_expression('date("2026-01-01") + duration("P1M") > d and matches(s, "^a+$")')
    tests = parse_unary_tests('[1..5], > 10')

    def boom(*args, **kwargs):
        raise AssertionError("re-tokenised during evaluation")

    monkeypatch.setattr(lexer, "tokenize", boom)
    monkeypatch.setattr(parser, "tokenize", boom)
    assert expression.evaluate({"d": date(2026, 1, 1), "s": "aaa"}) is True
    assert tests.matches(11) is True


def test_unknown_variable_is_null_and_listed_by_names() -> None:
    expression = parse_expression("age > 65 and missing")
    assert expression.evaluate({"age": 70}) is None
    assert expression.names() == {"age", "missing"}
    assert parse_unary_tests("> limit, ? < 0").names() == {"limit"}


def test_huge_range_is_an_evaluation_error() -> None:
    with pytest.raises(FeelEvaluationError):
        evaluate("for i in 1..100000000 return i", {})


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(FeelSyntaxError):
        parse_expression("(" * 5000 + "1" + ")" * 5000)
    with pytest.raises(FeelError):
        parse_expression("-" * 5000 + "1")
    long_sum = parse_expression(" + ".join(["1"] * 300))
    assert long_sum.evaluate({}) == D(300)


def test_evaluation_speed_is_reasonable() -> None:
    expression = parse_expression("patient.age >= 65 and score >= 3.5 and (flag or x in [1..5])")
    tests = parse_unary_tests('[1..5], > 10, "x"')
    context = {"patient": {"age": 70}, "score": 4, "flag": False, "x": 3}
    start = systime.perf_counter()
    for _ in range(5000):
        assert expression.evaluate(context) is True
        assert tests.matches(11) is True
    assert systime.perf_counter() - start < 2.0  # ~20 µs per evaluation in practice


def test_random_token_soup_only_ever_raises_feel_errors() -> None:
    import random

    pieces = ['1', '-2.5', '"a"', 'x', 'null', 'true', 'date("2020-01-31")', 'duration("P1M")', '[1,2]', '{a:1}',
              '?', 'item', '+', '-', '*', '/', '**', '=', '<', '>=', ' and ', ' or ', ' in ', ' between ', '..',
              ',', '.', '[', ']', '(', ')', '{', '}', ':', 'count(', 'substring(', 'not(', 'if ', ' then ',
              ' else ', 'for i in ', ' return ', 'some i in ', ' satisfies ', 'sort(', '@"P1D"', '`x`']
    rng = random.Random(20260101)
    context = {"x": [1, 2], "item": 3}
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 7)))
        for parse in (parse_expression, parse_unary_tests):
            try:
                parsed = parse(text)
            except FeelSyntaxError:
                continue
            if isinstance(parsed, Expression):
                parsed.evaluate(context)
            else:
                for value in (2, None, "a", [1]):
                    assert parsed.matches(value, context) in (True, False)
