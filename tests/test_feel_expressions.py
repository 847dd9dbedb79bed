"""FEEL expressions: literals, names, paths, filters, operators, null semantics, control flow."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.feel import evaluate, parse_expression

D = Decimal
CTX = {
    "patient": {"age": 72, "name": "Ann", "scores": [3, 8, 5], "address": {"city": "Leeds"}},
    "x": 4, "score": 3, "ratio": 0.1, "flag": True, "nothing": None, "s": "abc",
    "items": [{"name": "a", "qty": 2}, {"name": "b", "qty": 5}, {"name": "c", "qty": 9}],
    "nums": [1, 2, 3, 4, 5],
}


def ev(text: str, **extra):
    return evaluate(text, {**CTX, **extra})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", D(1)), ("-1", D(-1)), ("1.5", D("1.5")), (".5", D("0.5")), ("-.5", D("-0.5")),
        ("1e3", D("1E+3")), ("0.1 + 0.2", D("0.3")), ("-2.5", D("-2.5")), ("- 3", D(-3)),
        ('"hello"', "hello"), ('"a\\"b"', 'a"b'), ('"line\\nbreak"', "line\nbreak"), ('"tab\\t"', "tab\t"),
        ('"back\\\\slash"', "back\\slash"), ('"\\u00e9"', "é"), ('"\\d+"', "\\d+"), ('"it\'s"', "it's"),
        ("true", True), ("false", False), ("null", None),
        ("[]", []), ("[1, 2]", [D(1), D(2)]), ('[1, "a", null]', [D(1), "a", None]),
        ('{a: 1, "b c": 2}', {"a": D(1), "b c": D(2)}), ("{}", {}), ("{a: {b: 3}}.a.b", D(3)),
        ("{a: 1, b: a + 1}", {"a": D(1), "b": D(2)}), ("{first name: 1}", {"first name": D(1)}),
        ("// comment\n 1 + /* inline */ 2", D(3)),
    ],
)
def test_literals(text: str, expected) -> None:
    assert ev(text) == expected
    assert type(ev(text)) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x", D(4)), ("patient.age", D(72)), ("patient.address.city", "Leeds"), ("patient.missing", None),
        ("unknown", None), ("unknown.deeper", None), ("patient.age.foo", None),
        ("items.name", ["a", "b", "c"]), ("`patient`.age", D(72)), ("ratio", D("0.1")),
        ("nothing", None), ("flag", True), ("?", None),
    ],
)
def test_names_and_paths(text: str, expected) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nums[1]", D(1)), ("nums[5]", D(5)), ("nums[-1]", D(5)), ("nums[-5]", D(1)),
        ("nums[0]", None), ("nums[6]", None), ("nums[-6]", None), ("nums[1.5]", None),
        ("nums[item > 3]", [D(4), D(5)]), ("nums[item > 9]", []), ("nums[item = 2]", [D(2)]),
        ("items[qty > 3].name", ["b", "c"]), ("items[item.qty < 3].name", ["a"]),
        ('items[name = "c"][1].qty', D(9)), ("patient.scores[2]", D(8)),
        ("nums[x]", D(4)), ("nums[x - 1]", D(3)), ("[1,2,3][item >= 2][1]", D(2)),
        ("null[1]", None), ("nums[item > null]", []), ("5[1]", D(5)),
        ("[[1,2],[3]][1][2]", D(2)), ("[{a: 1}, {a: 2}][a = 2]", [{"a": D(2)}]),
    ],
)
def test_filters_and_indexes(text: str, expected) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", D(7)), ("(1 + 2) * 3", D(9)), ("10 / 4", D("2.5")), ("2 ** 10", D(1024)),
        ("2 ** 3 ** 2", D(64)), ("-2 ** 2", D(4)), ("10 - 2 - 3", D(5)), ("1 / 3", D("0." + "3" * 34)), ("1 / 3 * 3", D("0." + "9" * 34)),
        ("7 / 0", None), ("0 / 0", None), ("x * 2.5", D("10.0")), ("-x", D(-4)), ("- -x", D(4)),
        ('"a" + "b"', "ab"), ('"a" + 1', None), ("1 + null", None), ("null - 1", None), ("null * 2", None),
        ("-null", None), ('-"a"', None), ("true + 1", None), ("[1] + [2]", None),
        ("10 ** 100000", None), ("(-8) ** 0.5", None), ("0 ** -1", None), ("0 ** -2.5", None), ("2 ** -1", D("0.5")),
        ("1.10 + 2.20", D("3.30")), ("0.1 * 3", D("0.3")),
    ],
)
def test_arithmetic(text: str, expected) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 = 3.0", True), ("score >= 3.5", False), ("x >= 3.5", True), ("score = 3", True), ("1 != 2", True),
        ('"a" < "b"', True), ('"b" <= "a"', False), ('"a" = "a"', True), ('"a" = "A"', False),
        ('"a" < 1', None), ('"1" = 1', None), ("true = true", True), ("true < false", None),
        ("null = null", True), ("null != null", False), ("x = null", False), ("null = x", False),
        ("x != null", True), ("nothing = null", True), ("unknown = null", True),
        ("null < 3", None), ("3 > null", None), ("null <= null", None),
        ("[1, 2] = [1, 2]", True), ("[1, 2] = [1, 2.0]", True), ("[1, 2] = [2, 1]", False), ("[1] = [1, 2]", False),
        ("{a: 1} = {a: 1.0}", True), ("{a: 1} = {b: 1}", False),
        ("x between 1 and 4", True), ("x between 5 and 10", False), ("null between 1 and 2", None),
        ('"b" between "a" and "c"', True), ("x between 1 and null", None),
    ],
)
def test_comparisons(text: str, expected) -> None:
    assert ev(text) is expected


# three-valued logic tables (DMN 1.3 Table 55)
LOGIC_VALUES = {"true": True, "false": False, "null": None}
AND_TABLE = {("true", "true"): True, ("true", "false"): False, ("true", "null"): None,
             ("false", "true"): False, ("false", "false"): False, ("false", "null"): False,
             ("null", "true"): None, ("null", "false"): False, ("null", "null"): None}
OR_TABLE = {("true", "true"): True, ("true", "false"): True, ("true", "null"): True,
            ("false", "true"): True, ("false", "false"): False, ("false", "null"): None,
            ("null", "true"): True, ("null", "false"): None, ("null", "null"): None}


@pytest.mark.parametrize(("a", "b"), sorted(AND_TABLE))
def test_and_three_valued(a: str, b: str) -> None:
    assert ev(f"{a} and {b}") is AND_TABLE[(a, b)]
    assert ev("p and q", p=LOGIC_VALUES[a], q=LOGIC_VALUES[b]) is AND_TABLE[(a, b)]


@pytest.mark.parametrize(("a", "b"), sorted(OR_TABLE))
def test_or_three_valued(a: str, b: str) -> None:
    assert ev(f"{a} or {b}") is OR_TABLE[(a, b)]
    assert ev("p or q", p=LOGIC_VALUES[a], q=LOGIC_VALUES[b]) is OR_TABLE[(a, b)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not(true)", False), ("not(false)", True), ("not(null)", None), ("not(1)", None),
        ('1 and true', None), ('"x" or false', None), ("x > 3 and patient.age >= 65", True),
        ("x > 5 or unknown", None), ("x > 3 or unknown", True), ("x > 5 and unknown", False),
        ("true and true and false", False), ("false or false or true", True),
        ("x > 1 and x < 10 or false", True),
    ],
)
def test_boolean_operators(text: str, expected) -> None:
    assert ev(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x in [1..5]", True), ("x in [5..10]", False), ("x in ]4..5]", False), ("x in (1,2,3)", False),
        ("x in (1,2,4)", True), ('s in ["abc", "d"]', True), ('s in ["d"]', False), ("x in nums", True),
        ("x in (> 3, < 0)", True), ("x in > 3", True), ("x in < 3", False), ("null in (1, null)", True),
        ("x in [1..5] and x in (> 2)", True), ("x in (1..5)", True), ("x in 4", True),
        ('x in ("4")', None),  # 4 = "4" is null (different types), so is the membership
    ],
)
def test_in_operator(text: str, expected) -> None:
    assert ev(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('if x > 3 then "high" else "low"', "high"), ('if x > 5 then "high" else "low"', "low"),
        ('if null then "yes" else "no"', "no"), ('if 1 then "yes" else "no"', "no"),
        ("if x > 3 then if x > 10 then 2 else 1 else 0", D(1)), ("1 + (if flag then 1 else 2)", D(2)),
        ("for i in nums return i * 2", [D(2), D(4), D(6), D(8), D(10)]),
        ("for i in 1..3 return i", [D(1), D(2), D(3)]), ("for i in 3..1 return i", [D(3), D(2), D(1)]),
        ("for i in [1, 2], j in [10, 20] return i + j", [D(11), D(21), D(12), D(22)]),
        ("for i in [] return i", []), ("for i in null return i", None),
        ("for it in items return it.qty", [D(2), D(5), D(9)]),
        ("some i in nums satisfies i > 4", True), ("some i in nums satisfies i > 5", False),
        ("every i in nums satisfies i > 0", True), ("every i in nums satisfies i > 1", False),
        ("every i in [] satisfies i > 1", True), ("some i in [] satisfies i > 1", False),
        ("some i in [1, 2], j in [3] satisfies i + j = 5", True),
        ("some i in null satisfies i", None),
        ("sort([3, 1, 2], function(a, b) a > b)", [D(3), D(2), D(1)]),
    ],
)
def test_control_flow(text: str, expected) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x instance of number", True), ('"a" instance of string', True), ("x instance of string", False),
        ('date("2020-01-01") instance of date', True), ("null instance of Null", True),
        ('duration("P1M") instance of years and months duration', True),
        ('duration("P1D") instance of days and time duration', True),
        ('date and time("2020-01-01T00:00:00") instance of date and time', True),
        ("[1] instance of list", True), ("{} instance of context", True), ("x instance of Any", True),
    ],
)
def test_instance_of(text: str, expected: bool) -> None:
    assert ev(text) is expected


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("patient.age > 65 and score >= threshold", {"patient", "score", "threshold"}),
        ("for i in nums return i * factor", {"nums", "factor"}),
        ("some i in xs satisfies i > limit", {"xs", "limit"}),
        ("items[qty > minimum]", {"items", "qty", "minimum"}),
        ("nums[item > 2]", {"nums"}),
        ("{a: 1, b: a + c}.b", {"c"}),
        ('date("2020-01-01") + duration(d)', {"d"}),
        ("sort(xs, function(a, b) a < b)", {"xs"}),
        ("`blood pressure` > 140", {"blood pressure"}),
        ("1 + 2", set()),
        ("is defined(maybe)", {"maybe"}),
    ],
)
def test_names_for_lint(text: str, names: set[str]) -> None:
    assert parse_expression(text).names() == names


def test_is_defined_distinguishes_missing_from_null() -> None:
    assert ev("is defined(nothing)") is True
    assert ev("is defined(unknown)") is False
    assert ev("is defined(patient.age)") is True
    assert ev("is defined(patient.weight)") is False
    assert ev("is defined(1)") is True


def test_context_values_are_converted_once_and_not_mutated() -> None:
    data = {"v": [1, 2.5], "m": {"k": 1}}
    assert evaluate("v", data) == [D(1), D("2.5")]
    assert evaluate("m.k + v[2]", data) == D("3.5")
    assert data == {"v": [1, 2.5], "m": {"k": 1}}


def test_int_float_decimal_inputs_compare_equal() -> None:
    for value in (3, 3.0, D("3"), D("3.00")):
        assert evaluate("v = 3", {"v": value}) is True
        assert evaluate("v >= 3.5", {"v": value}) is False
    assert evaluate("v = true", {"v": 1}) is None  # bool and number are different types
    assert evaluate("v = 1", {"v": True}) is None


def test_context_mapping_can_be_any_mapping() -> None:
    from types import MappingProxyType

    assert evaluate("a + 1", MappingProxyType({"a": 1})) == D(2)
    assert evaluate("a", None) is None
