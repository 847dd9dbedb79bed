"""Users with groups work only the tasks offered to their groups (or to them by name)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.service import Forbidden, Service
from engine.store import create_token, find_token

BUNDLE = Path(__file__).parent / "fixtures" / "bundle"
ROUTINE = {"painScore": 3, "neuroDeficit": False, "fractureDate": date(2026, 1, 1)}


@pytest.fixture
def svc(session_factory: sessionmaker[Session]) -> Service:
    service = Service(session_factory, SimulatedClock(datetime(2026, 1, 5, 9, tzinfo=UTC)))
    service.deploy({p.name: p.read_bytes() for p in BUNDLE.iterdir()}, actor="lead")
    return service


def test_group_members_may_work_their_tasks_and_others_may_not(svc: Service) -> None:
    pid = svc.enroll("engine_acceptance", actor="coordinator", variables=ROUTINE)
    svc.correlate_message(pid, "RedFlagReported", actor="gp")
    (urgent,) = svc.tasks(pathway_id=pid)["items"]
    assert urgent["candidateGroups"] == ["clinician"]

    with pytest.raises(Forbidden, match="clinician"):
        svc.claim(urgent["id"], actor="cora", actor_groups=["coordinator"])
    with pytest.raises(Forbidden):
        svc.complete(urgent["id"], {}, actor="cora", actor_groups=["coordinator"])
    assert svc.task(urgent["id"])["status"] == "ready"

    svc.claim(urgent["id"], actor="dr-li", actor_groups=["clinician", "endocrinology"])
    svc.complete(urgent["id"], {}, actor="dr-li", actor_groups=["clinician"])
    assert svc.pathway(pid)["status"] == "completed"


def test_tokens_without_groups_are_not_restricted(svc: Service) -> None:
    pid = svc.enroll("engine_acceptance", actor="coordinator", variables=ROUTINE)
    svc.correlate_message(pid, "RedFlagReported", actor="gp")
    (urgent,) = svc.tasks(pathway_id=pid)["items"]
    svc.complete(urgent["id"], {}, actor="lead", actor_groups=None)
    assert svc.task(urgent["id"])["status"] == "completed"


def test_tokens_remember_their_groups(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        token = create_token(session, "dr-li", "coordinator", datetime(2026, 1, 1, tzinfo=UTC),
                             groups=["clinician", "clinician", "endocrinology"])
        plain = create_token(session, "cora", "coordinator", datetime(2026, 1, 1, tzinfo=UTC))
    with session_factory() as session:
        assert find_token(session, token).groups == ["clinician", "endocrinology"]
        assert find_token(session, plain).groups is None
