"""A start event's Camunda form types the variables a pathway is enrolled with."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.service import InvalidInput, Service
from engine.store import AuditEvent, Instance

BUNDLE = Path(__file__).parent / "fixtures" / "start_form"


@pytest.fixture
def svc(session_factory: sessionmaker[Session]) -> Service:
    service = Service(session_factory, SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    service.deploy({p.name: p.read_bytes() for p in BUNDLE.glob("*.bpmn")}, actor="lead")
    return service


def test_iso_date_text_becomes_a_date_so_feel_date_arithmetic_works(svc: Service) -> None:
    pid = svc.enroll("start_form", actor="coordinator", variables={"fractureDate": "2026-02-20", "painScore": 6,
                                                                 "referrer": "GP"})
    assert svc.pathway(pid)["variables"] == {"fractureDate": date(2026, 2, 20), "painScore": 6, "referrer": "GP"}
    (task,) = svc.tasks(pathway_id=pid)["items"]
    assert task["due"] == "2026-03-20T00:00:00+00:00"  # fractureDate + P4W, a date at midnight UTC


@pytest.mark.parametrize(("variables", "field", "code"), [
    ({"painScore": 3}, "fractureDate", "required"),
    ({"fractureDate": "20/02/2026"}, "fractureDate", "type"),
    ({"fractureDate": "2026-02-20", "painScore": 11}, "painScore", "max"),
    ({"fractureDate": "2026-02-20", "painScore": "six"}, "painScore", "type"),
])
def test_invalid_start_variables_are_refused_per_field_and_nothing_is_stored(
    svc: Service, session_factory: sessionmaker[Session], variables: dict, field: str, code: str
) -> None:
    with session_factory() as session:
        audit_before = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(InvalidInput) as raised:
        svc.enroll("start_form", actor="coordinator", variables=variables)
    assert [(e.field, e.code) for e in raised.value.errors] == [(field, code)]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == audit_before
