"""Every input-entry form Camunda Modeler lets a clinician type, and typeRef coercion of inputs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from engine.decisions import DecisionInputError, DecisionRegistry, load_dmn

FIXTURES = Path(__file__).parent / "fixtures" / "dmn"
SCORE_TAGS = {"lt", "le", "gt", "ge", "eq", "closed", "open", "paren", "rightopen", "leftopen", "numlist",
              "notnum", "question"}
NEUTRAL = {"score": None, "category": "c", "flag": None, "onset": None, "note": "x"}


def registry(*names: str) -> DecisionRegistry:
    return DecisionRegistry(load_dmn((FIXTURES / n).read_bytes(), n) for n in names)


@pytest.fixture(scope="module")
def cells() -> DecisionRegistry:
    return registry("cell_forms.dmn")


def tags(cells: DecisionRegistry, **inputs: object) -> list[str]:
    result = cells.evaluate("Decision_CellForms", {**NEUTRAL, **inputs})
    assert result.matched_rules == [f"DecisionRule_{tag}" for tag in result.value]
    return result.value


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (1, {"lt", "le", "closed", "rightopen", "numlist", "notnum"}),
        (2, {"le", "closed", "open", "paren", "rightopen", "leftopen", "numlist", "notnum"}),
        (5, {"ge", "closed", "leftopen", "question"}),
        (7, {"ge", "eq", "notnum"}),
        (9, {"gt", "ge", "notnum"}),
        (3, {"closed", "open", "paren", "rightopen", "leftopen", "numlist", "notnum"}),
        (Decimal("3.5"), {"ge", "closed", "open", "paren", "rightopen", "leftopen", "notnum", "question"}),
        (3.5, {"ge", "closed", "open", "paren", "rightopen", "leftopen", "notnum", "question"}),
        ("4.0", {"ge", "closed", "open", "paren", "rightopen", "leftopen", "question"}),
        (4, {"ge", "closed", "open", "paren", "rightopen", "leftopen", "question"}),
    ],
)
def test_number_cells(cells: DecisionRegistry, score: object, expected: set[str]) -> None:
    assert set(tags(cells, score=score)) & SCORE_TAGS == expected


@pytest.mark.parametrize(
    ("category", "expected"),
    [("a", {"streq", "strlist"}), ("b", {"strlist"}), ("c", {"strnot"}), ("A", {"strnot"})],
)
def test_string_cells(cells: DecisionRegistry, category: str, expected: set[str]) -> None:
    assert set(tags(cells, category=category)) & {"streq", "strlist", "strnot"} == expected


@pytest.mark.parametrize(
    ("flag", "expected"),
    [(True, {"true"}), (False, {"false"}), ("true", {"true"}), ("FALSE", {"false"}), (None, set())],
)
def test_boolean_cells(cells: DecisionRegistry, flag: object, expected: set[str]) -> None:
    assert set(tags(cells, flag=flag)) & {"true", "false"} == expected


@pytest.mark.parametrize(
    ("onset", "expected"),
    [
        ("2019-06-30", {"datelt"}),
        ("2024-01-01", {"daterange"}),
        ("2024-12-31", {"daterange"}),
        ("2025-01-01", set()),
        (date(2019, 12, 31), {"datelt"}),
        ("2024-05-01T10:30:00Z", {"daterange"}),
    ],
)
def test_date_cells_with_iso_strings(cells: DecisionRegistry, onset: object, expected: set[str]) -> None:
    assert set(tags(cells, onset=onset)) & {"datelt", "daterange"} == expected


def test_null_cells(cells: DecisionRegistry) -> None:
    assert set(tags(cells, note=None)) & {"null", "notnull"} == {"null"}
    assert set(tags(cells, note="text")) & {"null", "notnull"} == {"notnull"}
    without_note = {k: v for k, v in NEUTRAL.items() if k != "note"}
    result = cells.evaluate("Decision_CellForms", without_note)
    assert "null" in result.value  # a missing input is null


def test_dash_and_empty_cells_match_anything(cells: DecisionRegistry) -> None:
    assert tags(cells)[-1] == "any"
    assert tags(cells, score=100, category="zzz", flag=True, onset="2030-01-01")[-1] == "any"


def test_rule_description_is_kept(cells: DecisionRegistry) -> None:
    rules = cells.get("Decision_CellForms").logic.rules
    assert rules[0].id == "DecisionRule_lt" and rules[0].description == "score below 2"
    assert rules[-1].description == "dash and empty cells match anything"


def test_trace_shows_typed_inputs(cells: DecisionRegistry) -> None:
    result = cells.evaluate("Decision_CellForms", {**NEUTRAL, "score": "4.0", "flag": "true", "onset": "2024-03-01"})
    (entry,) = result.trace
    assert entry["decision"] == "Decision_CellForms"
    assert entry["inputs"] == {"Score": 4, "Category": "c", "Flag": True, "Onset": "2024-03-01", "Note": "x"}
    assert entry["matchedRules"] == result.matched_rules
    assert entry["outputs"] == [{"tag": t} for t in result.value]


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        ({"score": "abc"}, "Score"),
        ({"score": True}, "Score"),
        ({"flag": "yes"}, "Flag"),
        ({"onset": "31/12/2024"}, "Onset"),
    ],
)
def test_values_that_do_not_fit_the_type_ref(cells: DecisionRegistry, inputs: dict, fragment: str) -> None:
    with pytest.raises(DecisionInputError, match=fragment):
        cells.evaluate("Decision_CellForms", {**NEUTRAL, **inputs})


def test_referral_boundary_int_and_decimal() -> None:
    reg = registry("referral.dmn")

    def refer(vas: object) -> object:
        return reg.evaluate("IR referral", {"vas": vas, "fractureDate": "2025-03-01"}).value["refer"]

    assert refer(3) is False
    assert refer(Decimal("3.4999")) is False
    assert refer(3.5) is True
    assert refer(Decimal("3.5")) is True
    assert refer("4.0") is True
    assert refer(" 10 ") is True
