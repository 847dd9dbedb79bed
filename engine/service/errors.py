"""Service errors. Each maps to one HTTP status in the API layer."""

from __future__ import annotations

from ..forms import FieldError, FormValidationError
from ..problems import ModelError


class ServiceError(Exception):
    status = 400


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    """The caller may not work this task (not in its candidate groups or users)."""

    status = 403


class Conflict(ServiceError):
    """The request is valid but the current state forbids it (already done, not waiting, claimed)."""

    status = 409


class PreconditionFailed(ServiceError):
    """If-Match did not match the current version."""

    status = 412


class InvalidInput(ServiceError):
    status = 422

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


def require_running(instance) -> None:
    """Commands apply only to running pathways (suspended, failed, completed, cancelled refuse)."""
    if instance.status != "running":
        raise Conflict(f"pathway {instance.id} is {instance.status}")


__all__ = [
    "Conflict", "FieldError", "Forbidden", "FormValidationError", "InvalidInput", "ModelError", "NotFound",
    "PreconditionFailed", "ServiceError", "require_running",
]
