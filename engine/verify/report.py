"""A verification report as a clinical lead reads it (text) and as a tool reads it (JSON)."""

from __future__ import annotations

from typing import Any

from .explorer import Finding, Step
from .scenario import dump, scenario
from .verifier import Report

_TITLES = {
    "runtime": "The engine cannot take this step",
    "silent": "A patient is left with nothing to do and nothing scheduled",
    "endpoint": "A track ends where the model does not say the pathway may end",
    "property": "A declared safety property is broken",
    "escalation": "A task nobody is chased for when it is overdue",
}


_SHOWN = 40  # unreached elements named in the text report


def bounds(report: Report) -> str:
    options = report.options
    parts = [f"{report.states} states explored in {report.seconds:.1f} s",
             f"horizon {options.horizon} from enrolment",
             f"at most {options.event_subprocess_instances} event sub-process running at once"]
    capped = [g.name for g in report.groups if g.result.capped]
    if not report.groups:
        parts = ["not explored: fix the errors above first"]
    elif capped:
        parts.append(f"NOT EXHAUSTIVE: stopped at {options.max_states} states in {', '.join(capped)}")
    else:
        parts.append("exhaustive within these bounds")
    return "; ".join(parts)


def text(report: Report, files: str | None = None) -> str:
    """``files``: the folder verified, named in each scenario so the runner can replay it."""
    findings = report.findings
    lines: list[str] = []
    for problem in report.problems:
        lines.append(str(problem))
    for group in report.groups:
        r = group.result
        lines.append(f"track {group.name}: {r.states} states, {r.transitions} steps, "
                     f"{r.seconds:.1f} s{' (stopped at the state bound)' if r.capped else ''}")
    if report.properties:
        lines.append(f"safety properties checked: {', '.join(report.properties)}")
    unreached = report.unreached
    if unreached:
        total = len(report.elements)
        why = ("within the state bound" if not report.exhaustive
               else "on any explored path (a branch no patient can take, or one only a combination of "
                    "answers the exploration does not try reaches)")
        shown = ", ".join(f"{file}:{element}" for file, element in unreached[:_SHOWN])
        more = f" and {len(unreached) - _SHOWN} more" if len(unreached) > _SHOWN else ""
        lines.append(f"not reached {why}: {len(unreached)} of {total} elements: {shown}{more}")
    for number, finding in enumerate(findings, 1):
        lines.append("")
        lines.append(f"[{number}] {_TITLES.get(finding.check, finding.check)}")
        lines.append(f"    {finding.where}: {finding.message}")
        if finding.trail:
            lines.append(f"    shortest path ({len(finding.trail)} steps): {describe(finding.trail)}")
            lines.append("    as a scenario (tests/scenarios/*.yaml):")
            body = dump(scenario(finding, files, report.fields, finding.state, not report.errors))
            lines.extend("      " + line for line in body.rstrip().splitlines())
    lines.append("")
    lines.append(bounds(report))
    lines.append(f"{len(report.errors)} error(s), {len(findings)} violation(s), "
                 f"{len(report.problems) - len(report.errors)} warning(s)")
    return "\n".join(lines)


def as_json(report: Report, files: str | None = None) -> dict[str, Any]:
    return {
        "problems": [p.to_dict() for p in report.problems],
        "findings": [_finding(f, files, report.fields, not report.errors) for f in report.findings],
        "tracks": [{"name": g.name, "states": g.result.states, "transitions": g.result.transitions,
                    "capped": g.result.capped, "seconds": round(g.result.seconds, 2)} for g in report.groups],
        "properties": report.properties,
        "unreached": [{"file": file, "element": element} for file, element in report.unreached],
        "states": report.states,
        "exhaustive": report.exhaustive,
        "bounds": {"horizon": str(report.options.horizon), "maxStates": report.options.max_states,
                   "eventSubprocessInstances": report.options.event_subprocess_instances},
        "seconds": round(report.seconds, 2),
        "violations": report.violations,
    }


def _finding(finding: Finding, files: str | None, fields: dict[str, list[str]] | None,
             lint: bool) -> dict[str, Any]:
    return {"check": finding.check, "file": finding.file, "element": finding.element, "message": finding.message,
            "steps": len(finding.trail or []),
            "scenario": scenario(finding, files, fields, finding.state, lint) if finding.trail else None}


def describe(trail: list[Step]) -> str:
    words = []
    for step in trail:
        if step.kind == "start":
            words.append("enrol")
        elif step.kind == "complete":
            words.append(f"complete {step.element}")
        elif step.kind == "message":
            words.append(f"message {step.element}")
        elif step.kind == "signal":
            words.append(f"signal {step.element} (from a track explored apart)")
        else:
            words.append(f"clock to {step.at:%Y-%m-%d %H:%M}")
    return " → ".join(words)
