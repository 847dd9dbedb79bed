"""A pathway's audit trail said in clinical language: task and event names from the diagrams,
not element ids; who did it and when."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .display import answer

TIMER_ACTOR = "system:timer"


@dataclass
class Entry:
    at: str
    who: str
    what: str
    opened: list[str] = field(default_factory=list)  # tasks put in front of someone by this step
    decided: list[str] = field(default_factory=list)  # decisions the step ran: name, outcome, rules


def _decided(element: str, decision: dict[str, Any]) -> str:
    rules, result = decision.get("matchedRules") or [], decision.get("result")
    if rules:
        return f"{element}: {answer(result)} (rule {', '.join(rules)})"
    if result is None and decision.get("table"):
        return f"{element}: no rule matched"
    return f"{element}: {answer(result)}"


def entries(events: list[dict[str, Any]], elements: dict[str, dict[str, str]],
            task_names: dict[str, str]) -> list[Entry]:
    def name(element_id: str | None) -> str:
        found = elements.get(element_id or "")
        return found["name"] if found else (element_id or "?")

    found = []
    for event in events:
        action, details = event["action"], event.get("details") or {}
        task = task_names.get(event.get("taskId") or "") or name(details.get("elementId"))
        who = "the pathway's clock" if event["actor"] == TIMER_ACTOR else event["actor"]
        if action == "pathway.enroll":
            definition = details.get("definition") or {}
            what = f"Enrolled on the pathway ({definition.get('key', '?')}, version {definition.get('version', '?')})"
        elif action == "task.complete":
            what = f"Completed “{task}”"
        elif action == "task.claim":
            what = f"Claimed “{task}”"
        elif action == "task.unclaim":
            what = f"Released “{task}”"
        elif action == "timer.fire":
            fired = [name(f.get("elementId")) for f in details.get("fired", [])]
            what = "Time reached: " + ", ".join(dict.fromkeys(fired)) if fired else "Time reached"
        elif action.startswith("message."):
            what = f"Message received: {details.get('message') or details.get('name') or '?'}"
        elif action.startswith("pathway."):
            what = f"Pathway {action.split('.', 1)[1]}"
            if event.get("reason"):
                what += f" (reason: {event['reason']})"
        else:
            what = action
        before = set((event.get("before") or {}).get("activeElements") or [])
        after = (event.get("after") or {}).get("activeElements") or []
        opened = [name(e) for e in after if e not in before and elements.get(e, {}).get("type") == "userTask"]
        decided = [_decided(name(d.get("elementId")), d) for d in details.get("decisions", [])]
        found.append(Entry(event["at"], who, what, opened, decided))
    return found
