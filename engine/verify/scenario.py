"""A counterexample as a scenario file in the project's own format (``tests/scenarios/``), so a
finding can be replayed by the scenario runner and kept as a regression test.

Every answer is written out in full (``null`` for a field left empty) so that the runner's
defaults do not change it; instants are absolute; the last step expects exactly the ready tasks
and pending timers the explorer saw, which is what shows the hole.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import yaml

from .explorer import Finding, Step


def scenario(finding: Finding, files: str | None = None, fields: dict[str, list[str]] | None = None,
             state: dict[str, Any] | None = None, lint: bool = True) -> dict[str, Any]:
    """The scenario that walks ``finding``'s trail. ``files``: the folder the pathway was verified
    from (for the runner), ``fields``: each task's form field ids (to write absent answers as null),
    ``state``: the ready tasks and timers at the end of the trail; ``lint``: whether the model
    passes the static checks (if not, the runner deploys it without them)."""
    trail = finding.trail or []
    start = trail[0] if trail and trail[0].kind == "start" else None
    spec: dict[str, Any] = {"name": f"{finding.check}: {finding.where}", "why": finding.message}
    if files:
        spec["files"] = files
    if not lint:
        spec["lint"] = False  # the model breaks a static check: replay it as it is, to show the hole
    spec["defaults"] = False  # every answer is written out below: the runner adds none of its own
    spec["start"] = _instant(start.at) if start else None
    if start and start.values:
        spec["variables"] = _plain(start.values)
    steps: list[dict[str, Any]] = []
    for step in trail[1:] if start else trail:
        steps.append(_step(step, fields or {}))
    if state is not None and steps:
        steps[-1]["expect"] = {"ready": sorted(state.get("ready", [])), "timers": sorted(state.get("timers", [])),
                               "status": state.get("status", "running")}
    spec["steps"] = steps
    return spec


def _step(step: Step, fields: dict[str, list[str]]) -> dict[str, Any]:
    if step.kind == "complete":
        answers = {name: None for name in fields.get(step.element or "", [])}
        answers.update(_plain(step.values or {}))
        return {"complete": step.element, "with": answers}
    if step.kind == "message":
        return {"message": step.element, "variables": _plain(step.values or {})}
    if step.kind == "signal":
        # thrown by a track of another group, which the verifier did not explore beside this one:
        # the runner cannot throw it; replaying needs that track's steps up to its throw
        return {"signal": step.element, "variables": _plain(step.values or {})}
    return {"at": _instant(step.at)}


def dump(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=110)


def _instant(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
