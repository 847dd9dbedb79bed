"""Reading patients: one by id or hospital identifier, a searchable list, and what their
pathways' diagrams call each element (for timelines in clinical language)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select

from ..store import Definition, Instance, Patient, find_patient
from .context import ServiceContext
from .errors import InvalidInput, NotFound

MAX_PATIENTS = 200


def patient_summary(row: Patient) -> dict[str, Any]:
    return {"id": row.id, "externalId": row.external_id, "displayName": row.display_name,
            "birthDate": row.birth_date.isoformat() if row.birth_date else None, "sex": row.sex,
            "createdAt": row.created_at.isoformat()}


def _like(text: str, what: str) -> str:
    """``text`` for a LIKE pattern, its wildcards escaped (``\\`` is the escape character)."""
    if len(text) > 255:
        raise InvalidInput(f"{what} is longer than 255 characters")
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PatientService:
    ctx: ServiceContext

    def patient(self, *, patient_id: str | None = None, external_id: str | None = None) -> dict[str, Any]:
        """One patient with their pathways (id and status), oldest first."""
        with self.ctx.read() as session:
            row = session.get(Patient, patient_id) if patient_id else find_patient(session, external_id or "")
            if row is None:
                raise NotFound("no such patient")
            pathways = session.execute(select(Instance.id, Instance.status).where(Instance.patient_id == row.id)
                                       .order_by(Instance.created_at)).all()
            return {**patient_summary(row), "pathways": [{"id": pid, "status": status} for pid, status in pathways]}

    def patients(self, *, search: str | None = None, limit: int = 50, after: str | None = None,
                 name: str | None = None, birth_date: date | None = None) -> dict[str, Any]:
        """Patients by hospital identifier, a page at a time (``after``: the last identifier of
        the page before); ``search`` matches the start of the identifier or any part of the name,
        ``name`` any part of the name only, ``birth_date`` the date of birth."""
        limit = max(1, min(int(limit), MAX_PATIENTS))
        stmt = select(Patient).order_by(Patient.external_id).limit(limit + 1)
        if birth_date is not None:
            stmt = stmt.where(Patient.birth_date == birth_date)
        if name:
            stmt = stmt.where(Patient.display_name.ilike(f"%{_like(name, 'name')}%", escape="\\"))
        if search:
            pattern = _like(search, "search")
            stmt = stmt.where(or_(Patient.external_id.like(f"{pattern}%", escape="\\"),
                                  Patient.display_name.ilike(f"%{pattern}%", escape="\\")))
        if after:
            stmt = stmt.where(Patient.external_id > after)
        with self.ctx.read() as session:
            rows = list(session.scalars(stmt))
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": [patient_summary(r) for r in rows],
                "next": rows[-1].external_id if more and rows else None}

    def running_pathways(self, key: str, limit: int = 200) -> list[dict[str, Any]]:
        """Running pathways of a definition key, oldest version first: who they are for and the
        version each runs on (what a lead may migrate)."""
        stmt = (select(Instance.id, Definition.version, Patient.external_id, Patient.display_name, Patient.id)
                .join(Definition, Instance.definition_id == Definition.id)
                .join(Patient, Instance.patient_id == Patient.id, isouter=True)
                .where(Definition.key == key, Instance.status == "running")
                .order_by(Definition.version, Instance.created_at).limit(max(1, min(limit, MAX_PATIENTS))))
        with self.ctx.read() as session:
            rows = session.execute(stmt).all()
        return [{"id": pid, "version": version, "patientId": patient,
                 "patient": {"externalId": external, "displayName": name} if patient else None}
                for pid, version, external, name, patient in rows]

    def pathway_sources(self, instance_id: str, suffix: str = ".bpmn") -> dict[str, str]:
        """The files (by name ending) of the definition version a pathway runs on, without
        loading the pathway's state."""
        with self.ctx.read() as session:
            instance = session.get(Instance, instance_id)
            if instance is None:
                raise NotFound(f"pathway {instance_id} not found")
            sources = instance.definition.sources
        return {name: text for name, text in sources.items() if name.lower().endswith(suffix)}

    def elements(self, instance_id: str) -> dict[str, dict[str, str]]:
        """Element id -> its name in the pathway's diagrams (the id where it has none) and its
        BPMN type (``userTask``, ``boundaryEvent``, ...) and, for a boundary event, the id of the
        activity it is attached to (``on``); the diagram file it is drawn in (``file``)."""
        with self.ctx.read() as session:
            instance = session.get(Instance, instance_id)
            if instance is None:
                raise NotFound(f"pathway {instance_id} not found")
            bundle = self.ctx.bundle_for(instance.definition)
        if bundle.model is None:
            return {}
        return {e.id: {"name": e.name, "type": e.tag, "on": e.node.get("attachedToRef") or "", "file": e.file}
                for e in bundle.model.elements.values()}
