"""Patients and their pathways: enrol, read, correlate messages, cancel."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..forms import FieldError, FormValidationError, check_plain_data, validate_submission
from ..runtime import (
    ExecutionError,
    MessagePayloadMissing,
    NotWaitingForMessage,
    PathwayRuntime,
    PathwayStateError,
)
from ..store import (
    Definition,
    Instance,
    Patient,
    add_audit,
    add_instance,
    add_patient,
    find_patient,
    get_definition,
    list_audit,
    replace_ready_tasks,
)
from .context import ServiceContext
from .errors import Conflict, InvalidInput, NotFound, ServiceError
from .persist import change_and_save, save

TRANSITIONS = {
    "suspend": ({"running"}, "suspended"),
    "resume": ({"suspended", "failed"}, "running"),
    "cancel": ({"running", "suspended", "failed"}, "cancelled"),
}


class PathwayService:
    ctx: ServiceContext
    on_pathway: Callable[..., Any]

    def create_patient(self, external_id: str, *, actor: str, display_name: str | None = None,
                       birth_date: date | None = None, sex: str | None = None) -> str:
        with self.ctx.write() as session:
            if find_patient(session, external_id) is not None:
                raise Conflict(f"a patient with externalId '{external_id}' already exists")
            patient = add_patient(session, external_id=external_id, now=self.ctx.now(), display_name=display_name,
                                  birth_date=birth_date, sex=sex)
            add_audit(session, at=self.ctx.now(), actor=actor, action="patient.create", patient_id=patient.id)
            return patient.id

    def enroll(self, definition_key: str, *, actor: str, patient_id: str | None = None,
               variables: dict[str, Any] | None = None, version: int | None = None,
               business_key: str | None = None) -> str:
        """Start a pathway pinned to one definition version (the latest unless given)."""
        with self.ctx.write() as session:
            if patient_id is not None and session.get(Patient, patient_id) is None:
                raise NotFound(f"patient {patient_id} not found")
            return self._start_in(session, definition_key, version, actor=actor, patient_id=patient_id,
                                  variables=variables, business_key=business_key)

    def enrol_new_patient(self, external_id: str, definition_key: str, *, actor: str,
                          display_name: str | None = None, birth_date: date | None = None, sex: str | None = None,
                          variables: dict[str, Any] | None = None, version: int | None = None,
                          business_key: str | None = None) -> tuple[str, str]:
        """Register a patient and start their pathway in one transaction: both or neither."""
        row = {"external_id": external_id, "display_name": display_name, "birth_date": birth_date, "sex": sex,
               "variables": variables, "business_key": business_key}
        (result,) = self.enrol_new_patients([row], definition_key, actor=actor, version=version)
        if isinstance(result, Exception):
            raise result
        return result

    def enrol_new_patients(self, rows: list[dict[str, Any]], definition_key: str, *, actor: str,
                           version: int | None = None) -> list[tuple[str, str] | ServiceError]:
        """Register patients and start their pathways: one transaction for the batch, a savepoint
        per row, so each row is enrolled whole (patient and pathway) or not at all, with the
        error that refused it; a crash before the commit enrols none of the batch. Each row:
        ``external_id`` and optionally ``display_name, birth_date, sex, variables, business_key``."""
        results: list[tuple[str, str] | ServiceError] = []
        with self.ctx.write() as session:
            definition = get_definition(session, definition_key, version)  # once for the batch
            for row in rows:
                try:
                    with session.begin_nested():
                        results.append(self._enrol_in(session, row, definition_key, version, actor, definition))
                except ServiceError as exc:
                    results.append(exc)
        return results

    def _enrol_in(self, session, row: dict[str, Any], definition_key: str, version: int | None,
                  actor: str, definition: Definition | None = None) -> tuple[str, str]:
        try:  # the unique identifier refuses a duplicate: no lookup first (callers hold a savepoint)
            patient = add_patient(session, external_id=row["external_id"], now=self.ctx.now(),
                                  display_name=row.get("display_name"), birth_date=row.get("birth_date"),
                                  sex=row.get("sex"))
        except IntegrityError as exc:
            raise Conflict(f"a patient with externalId '{row['external_id']}' already exists") from exc
        add_audit(session, at=self.ctx.now(), actor=actor, action="patient.create", patient_id=patient.id)
        pathway = self._start_in(session, definition_key, version, actor=actor, patient_id=patient.id,
                                 variables=row.get("variables"), business_key=row.get("business_key"),
                                 definition=definition)
        return patient.id, pathway

    def _start_in(self, session, definition_key: str, version: int | None, *, actor: str, patient_id: str | None,
                  variables: dict[str, Any] | None, business_key: str | None,
                  definition: Definition | None = None) -> str:
        definition = definition or get_definition(session, definition_key, version)
        if definition is None:
            raise NotFound(f"definition '{definition_key}'" + (f" version {version}" if version else "")
                           + " not found")
        bundle = self.ctx.bundle_for(definition)
        _check_data(variables)
        if bundle.start_form:
            try:
                variables = validate_submission(bundle.start_form, variables or {}, allow_unknown=True)
            except FormValidationError as exc:
                raise InvalidInput("the start variables are not valid", exc.errors) from exc
        try:
            runtime = PathwayRuntime.start(bundle, self.ctx.clock, variables)
        except (PathwayStateError, ExecutionError) as exc:
            raise InvalidInput(f"the pathway cannot start with these data: {exc}") from exc
        # inserted with its state: one INSERT, not an INSERT and an UPDATE of the whole state
        instance = add_instance(session, definition=definition, state=runtime.dump(), instance_id=str(uuid.uuid4()),
                                serializer_version=runtime.serializer_version, now=self.ctx.now(),
                                patient_id=patient_id, business_key=business_key, status=runtime.status,
                                next_due_at=runtime.next_due_at() if runtime.status == "running" else None)
        save(self.ctx, session, instance, runtime, actor=actor, action="pathway.enroll", before=None,
             details={"definition": {"key": definition.key, "version": definition.version},
                      "variables": sorted((variables or {}).keys())}, write_state=False, fresh=True)
        return instance.id

    def pathway(self, instance_id: str) -> dict[str, Any]:
        with self.ctx.read() as session:
            instance = session.get(Instance, instance_id)
            if instance is None:
                raise NotFound(f"pathway {instance_id} not found")
            runtime = self.ctx.load_runtime(session, instance)
            definition = instance.definition
            return {
                "id": instance.id,
                "patientId": instance.patient_id,
                "businessKey": instance.business_key,
                "status": instance.status,
                "definition": {"key": definition.key, "version": definition.version},
                "variables": runtime.data,
                "activeElements": runtime.active_elements(),
                "completedElements": runtime.completed_elements(),
                "waitingMessages": runtime.waiting_messages(),
                "timers": [{"elementId": e, "due": d.isoformat()} for d, e in runtime.pending_timers()],
                "nextDueAt": instance.next_due_at.isoformat() if instance.next_due_at else None,
                "version": instance.version,
            }

    def pathways_for_patient(self, patient_id: str) -> list[str]:
        with self.ctx.read() as session:
            return list(session.scalars(select(Instance.id).where(Instance.patient_id == patient_id)
                                        .order_by(Instance.created_at)))

    def timeline(self, instance_id: str) -> list[dict[str, Any]]:
        with self.ctx.read() as session:
            if session.get(Instance, instance_id) is None:
                raise NotFound(f"pathway {instance_id} not found")
            return [
                {"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "taskId": e.task_id,
                 "before": e.before, "after": e.after, "reason": e.reason, "details": e.details}
                for e in list_audit(session, instance_id=instance_id)
            ]

    def change_status(self, instance_id: str, action: str, *, actor: str, reason: str | None = None) -> str:
        """Suspend (timers and commands pause), resume (after a suspension or an incident) or
        cancel a pathway, with the reason audited."""
        if action not in TRANSITIONS:
            raise InvalidInput(f"unknown action '{action}' (suspend, resume, cancel)")
        allowed, target = TRANSITIONS[action]
        with self.ctx.write() as session:
            instance = self.ctx.lock(session, instance_id)
            if instance.status not in allowed:
                raise Conflict(f"pathway {instance_id} is {instance.status}; cannot {action}")
            before = {"status": instance.status}
            if action == "cancel":
                runtime = self.ctx.load_runtime(session, instance)
                guards = runtime.cancel_guards()
                if guards:
                    raise Conflict(f"pathway {instance_id} cannot be cancelled while "
                                   + "; ".join(f"{element} runs: {reason}" for element, reason in guards))
                runtime.workflow.cancel()
                instance.state = runtime.dump()
                instance.next_due_at = None
                replace_ready_tasks(session, instance.id, [], self.ctx.now())
            instance.status = target
            instance.updated_at = self.ctx.now()
            add_audit(session, at=self.ctx.now(), actor=actor, action=f"pathway.{action}", instance_id=instance.id,
                      patient_id=instance.patient_id, before=before, after={"status": target}, reason=reason)
            return target

    def correlate_message(self, instance_id: str, message: str, *, actor: str,
                          variables: dict[str, Any] | None = None) -> dict[str, Any]:
        _check_data(variables)
        try:
            return self.on_pathway(
                lambda session: self.ctx.lock(session, instance_id),
                lambda session, instance, runtime: change_and_save(
                    self.ctx, session, instance, runtime, lambda r: r.correlate_message(message, variables),
                    actor=actor, action="message.correlate", conflicts=(NotWaitingForMessage,),
                    details={"message": message, "variables": sorted((variables or {}).keys())}))
        except MessagePayloadMissing as exc:
            errors = [FieldError(name, "required", f"message '{message}' must carry '{name}' (its declared payload)")
                      for name in exc.missing]
            raise InvalidInput(str(exc), errors) from exc


def _check_data(variables: dict[str, Any] | None) -> None:
    try:
        check_plain_data(variables or {})
    except FormValidationError as exc:
        raise InvalidInput("the variables are not valid", exc.errors) from exc
