"""``pathway serve --demo``: the bundled pathway, a few demo patients at different stages, one token per role.

The pathway is every .bpmn, .dmn and .safety.yaml file of the repository's ``pathways/`` and ``dmn/`` folders; when
they hold no BPMN file, nothing is deployed and only the tokens are made. Demo patients are enrolled
weeks apart on the simulated clock, which then catches up with today, so the worklist shows
overdue, due and upcoming work. The earlier patients' open tasks are worked with valid sample answers.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.clock import SimulatedClock, SystemClock
from engine.models.bundle import collect_files
from engine.problems import ModelError
from engine.service import Service, ServiceError
from engine.store.tokens import create_token

from .auth import ALL_ROLES

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("api.demo")
HISTORY = timedelta(weeks=16)
# (weeks before "until" the patient is enrolled, days from fracture to enrolment, rounds of work done:
# each round, two days on, every open task of the patient is completed with sample answers)
STAGES = [(15, 4, 3), (9, 3, 2), (5, 5, 1), (2, 2, 0), (0, 1, 0)]


@dataclass
class DemoResult:
    tokens: dict[str, str]
    definition: dict[str, Any] | None = None
    pathways: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def bundled_files(root: Path = ROOT) -> dict[str, bytes]:
    files = collect_files([root / "pathways", root / "dmn"])
    return files if any(name.endswith(".bpmn") for name in files) else {}


def sample_answer(form: dict[str, Any] | None, today: date) -> dict[str, Any]:
    """Valid values for a task's required fields (the smallest allowed number, the first option)."""
    answers: dict[str, Any] = {}
    for spec in (form or {}).get("fields", []):
        constraints = spec.get("constraints") or {}
        if "required" not in constraints or "readonly" in constraints:
            continue
        kind = spec.get("type") or "string"
        low = constraints.get("min")
        if kind == "long":
            answers[spec["id"]] = math.ceil(Decimal(low)) if low is not None else 3
        elif kind == "double":
            answers[spec["id"]] = float(low) if low is not None else 3.0
        elif kind == "boolean":
            answers[spec["id"]] = False
        elif kind == "enum" and spec.get("options"):
            answers[spec["id"]] = spec["options"][0]["id"]
        elif kind == "date":
            answers[spec["id"]] = today.isoformat()
        else:
            answers[spec["id"]] = "demo".ljust(int(constraints.get("minlength") or 0), "o")
    return answers


def _work_open_tasks(service: Service, pathway_id: str, actor: str) -> None:
    for task in service.tasks(pathway_id=pathway_id, limit=20)["items"]:
        detail = service.task(task["id"])
        try:
            service.complete(task["id"], sample_answer(detail.get("form"), service.clock.today()), actor=actor)
        except ServiceError as exc:
            log.info("demo task left open", extra={"event": "demo.task_open", "status": exc.status})


def seed_demo(service: Service, files: dict[str, bytes] | None = None, until: datetime | None = None) -> DemoResult:
    """Deploy, enrol and issue tokens.

    With a :class:`SimulatedClock` that starts in the past (``serve --demo`` starts it
    :data:`HISTORY` ago), patients are enrolled weeks apart as the clock moves up to ``until``
    (default: the real now), firing every timer on the way.
    """
    clock = service.clock
    until = until or SystemClock().now()
    with service.ctx.write() as session:
        tokens = {role: create_token(session, f"demo-{role}", role, clock.now()) for role in sorted(ALL_ROLES)}
    result = DemoResult(tokens)
    files = bundled_files() if files is None else files
    if files:
        try:
            result.definition = service.deploy(files, actor="demo-clinical_lead")
        except ModelError as exc:
            result.problems = [str(p) for p in exc.problems]
    if result.definition is not None:
        _enrol_demo_patients(service, result, result.definition["key"], until)
    if isinstance(clock, SimulatedClock):
        from .clock import move_clock

        move_clock(service, clock, max(clock.now(), until))
    return result


def _enrol_demo_patients(service: Service, result: DemoResult, key: str, until: datetime) -> None:
    from .clock import move_clock

    clock, actor = service.clock, "demo-coordinator"
    for number, (weeks_ago, fracture_days, rounds) in enumerate(STAGES, start=1):
        if isinstance(clock, SimulatedClock):
            move_clock(service, clock, max(clock.now(), until - timedelta(weeks=weeks_ago)))
        patient = service.create_patient(f"DEMO-{number:03d}", actor=actor, display_name=f"Demo patient {number}")
        variables = {"fractureDate": clock.today() - timedelta(days=fracture_days), "painScore": 5 + number % 3,
                     "neuroDeficit": False}
        try:
            pathway = service.enroll(key, actor=actor, patient_id=patient, variables=variables)
        except ServiceError as exc:
            result.problems.append(f"demo patient {number} not enrolled: {exc}")
            continue
        result.pathways.append(pathway)
        for _round in range(rounds if isinstance(clock, SimulatedClock) else 0):
            move_clock(service, clock, clock.now() + timedelta(days=2))
            _work_open_tasks(service, pathway, actor)
