"""Camunda 7's ``camunda:mapDecisionResult`` for business rule tasks, independent of SpiffWorkflow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import DecisionError

RESULT_LIST = "resultList"
SINGLE_ENTRY = "singleEntry"
SINGLE_RESULT = "singleResult"
COLLECT_ENTRIES = "collectEntries"
MAPPINGS = (SINGLE_ENTRY, SINGLE_RESULT, COLLECT_ENTRIES, RESULT_LIST)


def apply_result_mapping(
    result_rows: Sequence[Mapping[str, Any]], map_decision_result: str | None
) -> Any:
    """Shape a decision's result rows (one dict per matched rule) as Camunda 7 does.

    - ``singleEntry``: at most one row with at most one output -> that value (None if no row);
    - ``singleResult``: at most one row -> that row as a dict (None if no row);
    - ``collectEntries``: every row has one output -> the list of those values;
    - ``resultList`` (default, also for None or ''): the list of rows.

    Raises :class:`DecisionError` when the rows do not fit the requested shape.
    """
    mapping = (map_decision_result or RESULT_LIST).strip()
    rows = [dict(row) for row in result_rows]
    if mapping == RESULT_LIST:
        return rows
    if mapping == SINGLE_RESULT:
        _at_most_one_row(rows, mapping)
        return rows[0] if rows else None
    if mapping == SINGLE_ENTRY:
        _at_most_one_row(rows, mapping)
        if not rows:
            return None
        _one_entry(rows[0], mapping)
        return next(iter(rows[0].values()), None)
    if mapping == COLLECT_ENTRIES:
        values = []
        for row in rows:
            _one_entry(row, mapping)
            values.append(next(iter(row.values()), None))
        return values
    raise DecisionError(
        f"unknown mapDecisionResult {map_decision_result!r}; expected one of {', '.join(MAPPINGS)}"
    )


def _at_most_one_row(rows: list[dict[str, Any]], mapping: str) -> None:
    if len(rows) > 1:
        raise DecisionError(
            f"mapDecisionResult {mapping} needs at most one matched rule, got {len(rows)} result rows"
        )


def _one_entry(row: dict[str, Any], mapping: str) -> None:
    if len(row) > 1:
        raise DecisionError(
            f"mapDecisionResult {mapping} needs results with a single output, got {', '.join(row)}"
        )
