"""camunda:mapDecisionResult shapes and the Decimal-safe JSON dump (no FEEL needed)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from engine.decisions import DecisionError, apply_result_mapping, dumps_json

ONE = [{"level": "high"}]
TWO_ROWS = [{"level": "high"}, {"level": "low"}]
TWO_OUTPUTS = [{"level": "high", "weeks": 4}]


def test_single_entry() -> None:
    assert apply_result_mapping(ONE, "singleEntry") == "high"
    assert apply_result_mapping([], "singleEntry") is None
    with pytest.raises(DecisionError, match="at most one"):
        apply_result_mapping(TWO_ROWS, "singleEntry")
    with pytest.raises(DecisionError, match="single output"):
        apply_result_mapping(TWO_OUTPUTS, "singleEntry")


def test_single_result() -> None:
    assert apply_result_mapping(TWO_OUTPUTS, "singleResult") == {"level": "high", "weeks": 4}
    assert apply_result_mapping([], "singleResult") is None
    with pytest.raises(DecisionError):
        apply_result_mapping(TWO_ROWS, "singleResult")


def test_collect_entries() -> None:
    assert apply_result_mapping(TWO_ROWS, "collectEntries") == ["high", "low"]
    assert apply_result_mapping([], "collectEntries") == []
    with pytest.raises(DecisionError):
        apply_result_mapping(TWO_OUTPUTS, "collectEntries")


def test_result_list_is_the_default() -> None:
    assert apply_result_mapping(TWO_ROWS, None) == TWO_ROWS
    assert apply_result_mapping(TWO_ROWS, "resultList") == TWO_ROWS
    assert apply_result_mapping([], None) == []


def test_unknown_mapping() -> None:
    with pytest.raises(DecisionError, match="singleEntry"):
        apply_result_mapping(ONE, "firstEntry")


def test_json_dump_writes_decimals_as_numbers_and_dates_as_iso() -> None:
    text = dumps_json({"a": Decimal("3.50"), "b": Decimal("4"), "c": [date(2025, 1, 2), None, True], "d": "é"})
    assert json.loads(text, parse_float=Decimal) == {
        "a": Decimal("3.5"), "b": 4, "c": ["2025-01-02", None, True], "d": "é"
    }
    assert '"a": 3.5' in text
    assert json.loads(dumps_json(Decimal("0.000001"))) == pytest.approx(1e-6)
    assert dumps_json(Decimal("1E+2")) == "100"
