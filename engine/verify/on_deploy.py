"""The verifier at deploy, as a site setting (``PATHWAY_VERIFY_ON_DEPLOY``):

- ``off`` (the default): the static checks only (they always run, in ``load_bundle``);
- ``warn``: explore too; violations are returned with the deployment for the lead to read;
- ``refuse``: explore too; any violation refuses the deployment, each finding named by file and
  element with a path to it, in the Modeler's error text as in our API.

The exploration at deploy is bounded (``PATHWAY_VERIFY_MAX_STATES`` per track group, default
20000) and runs in the serving process; a bound hit is reported, never taken as a pass, with how
much of the model it left unchecked. It runs in coverage order (states where an element is active
for the first time first): a lead's edit deep in a drug course is reached within the bound, where
breadth first would spend the bound on the answers before the first prescription.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..models.bundle import Bundle
from ..problems import Problem
from .explorer import Options
from .report import describe
from .verifier import verify

MODES = ("off", "warn", "refuse")


@dataclass
class DeployCheck:
    mode: str
    findings: list[Problem] = field(default_factory=list)
    states: int = 0
    exhaustive: bool = True

    def summary(self) -> dict:
        return {"mode": self.mode, "states": self.states, "exhaustive": self.exhaustive,
                "findings": [p.to_dict() for p in self.findings]}


def mode_from_env() -> str:
    mode = os.environ.get("PATHWAY_VERIFY_ON_DEPLOY", "off").strip().lower() or "off"
    if mode not in MODES:
        raise ValueError(f"PATHWAY_VERIFY_ON_DEPLOY must be one of {', '.join(MODES)}, not '{mode}'")
    return mode


def check(files: Mapping[str, bytes | str], bundle: Bundle, mode: str) -> DeployCheck:
    """Explore ``bundle`` (loaded and linted from ``files``) as the site setting ``mode`` says."""
    result = DeployCheck(mode)
    if mode == "off":
        return result
    limit = int(os.environ.get("PATHWAY_VERIFY_MAX_STATES", "20000"))
    report = verify(files, Options(max_states=limit, search="coverage"), workers=1, bundle=bundle)
    result.states, result.exhaustive = report.states, report.exhaustive
    for finding in report.findings:
        path = f" (path: {describe(finding.trail)})" if finding.trail else ""
        result.findings.append(Problem(finding.file, finding.element, finding.message + path))
    if not report.exhaustive:
        result.findings.append(Problem("-", "-", f"verification stopped at {limit} states per track: not exhaustive, "
                                                 f"{len(report.unreached)} of {len(report.elements)} elements not reached "
                                                 "(raise PATHWAY_VERIFY_MAX_STATES or run `pathway verify`)",
                                       severity="warning"))
    return result
