"""FHIR R4 facade (issue 12): hospital systems read patients and poll tasks as FHIR resources,
over the same service layer and tokens as the JSON API. Errors are OperationOutcome."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, json
from werkzeug.exceptions import HTTPException

from engine.service import ServiceError

from ..problems import ApiProblem
from .resources import operation_outcome

FHIR_JSON = "application/fhir+json"

bp = Blueprint("fhir", __name__, url_prefix="/fhir")


def fhir_response(resource: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(resource, ensure_ascii=False)
    return current_app.response_class(body, status=status, mimetype=FHIR_JSON, headers=headers)


def etag(resource: dict[str, Any]) -> dict[str, str]:
    """The weak ETag FHIR clients send back in If-Match: the version of what they read."""
    return {"ETag": f'W/"{resource["etag"]}"'}


class FhirError(Exception):
    """An error to answer as an OperationOutcome (``expression``: the search parameter or element)."""

    def __init__(self, status: int, diagnostics: str, *, code: str | None = None,
                 expression: list[str] | None = None) -> None:
        super().__init__(diagnostics)
        self.status, self.diagnostics, self.code, self.expression = status, diagnostics, code, expression


@bp.errorhandler(FhirError)
def _fhir_error(exc: FhirError) -> Response:
    return fhir_response(operation_outcome(exc.status, exc.diagnostics, code=exc.code, expression=exc.expression),
                         exc.status)


@bp.errorhandler(ApiProblem)
def _problem(exc: ApiProblem) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="fhir"'} if exc.status == 401 else None
    return fhir_response(operation_outcome(exc.status, exc.detail), exc.status, headers)


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    return fhir_response(operation_outcome(exc.status, str(exc)), exc.status)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    return fhir_response(operation_outcome(status, exc.description or exc.name), status)


from . import updates, views  # noqa: E402,F401 - the routes register on bp (after it exists)
