"""Patients and enrolling them on a pathway."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .auth import READERS, WORKERS, actor
from .openapi import endpoint
from .schemas import EnrollIn, IdOut, PathwayOut, PatientIn, PatientOut, PatientQuery
from .state import service
from .variables import typed_variables

bp = Blueprint("patients", __name__, url_prefix="/api/patients")


@bp.post("")
@endpoint(roles=WORKERS, tags=("patients",), json=PatientIn, ok={"HTTP_201": IdOut}, errors=(409, 415))
def create_patient(json: PatientIn) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Register a patient by the hospital's identifier."""
    patient_id = service().create_patient(json.externalId, actor=actor(), display_name=json.displayName,
                                          birth_date=json.birthDate, sex=json.sex)
    return {"id": patient_id}, 201, {"Location": f"/api/patients/{patient_id}"}


@bp.post("/<patient_id>/pathways")
@endpoint(roles=WORKERS, tags=("patients", "pathways"), json=EnrollIn, ok={"HTTP_201": PathwayOut},
          errors=(404, 415))
def enroll(patient_id: str, json: EnrollIn) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Start a pathway for the patient, pinned to one definition version (the latest unless given)."""
    svc = service()
    pathway_id = svc.enroll(json.definition, actor=actor(), patient_id=patient_id, version=json.version,
                            variables=typed_variables(json.variables), business_key=json.businessKey)
    return svc.pathway(pathway_id), 201, {"Location": f"/api/pathways/{pathway_id}"}


@bp.get("")
@endpoint(roles=READERS, tags=("patients",), query=PatientQuery, ok={"HTTP_200": PatientOut}, errors=(404,))
def find(query: PatientQuery) -> dict[str, Any]:
    """Look a patient up by the hospital's identifier (``externalId``), with their pathways."""
    return service().patient(external_id=query.externalId)


@bp.get("/<patient_id>")
@endpoint(roles=READERS, tags=("patients",), ok={"HTTP_200": PatientOut}, errors=(404,))
def patient(patient_id: str) -> dict[str, Any]:
    """One patient with their pathways (id and status), oldest first."""
    return service().patient(patient_id=patient_id)
