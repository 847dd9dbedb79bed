"""RFC 9457 problem details for every error the API answers, framework errors included."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from engine.decisions import DecisionError
from engine.feel.errors import FeelError
from engine.problems import ModelError
from engine.service import InvalidInput, ServiceError

PROBLEM_MIME = "application/problem+json"
TYPE_BASE = "https://ovcf-pathway.invalid/problems/"
log = logging.getLogger("api")


class ApiProblem(Exception):
    """Raise from a view to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, kind: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.extra = extra


def problem(status: int, detail: str | None = None, *, kind: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or title.lower().replace(" ", "-").replace("'", "")),
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.path if request else None
    body.update({k: v for k, v in extra.items() if v is not None})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIME)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors_from_pydantic(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Pydantic's error list as our per-field errors ``{field, code, message}``."""
    out = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
        code = str(error.get("type", "invalid"))
        if code == "extra_forbidden":
            code = "unknown"
        elif code == "missing":
            code = "required"
        out.append({"field": ".".join(loc) or "body", "code": code, "message": str(error.get("msg", "invalid"))})
    return out


def workflow_error(exc: BaseException) -> str | None:
    """The reason when running the model failed on the data given (a decision input of the wrong
    type, a FEEL error), which the service does not translate yet; None for anything else."""
    seen: BaseException | None = exc
    from_workflow = type(exc).__module__.startswith("SpiffWorkflow")
    while seen is not None:
        if isinstance(seen, DecisionError | FeelError):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return str(exc) if from_workflow else None


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiProblem)
    def _api_problem(exc: ApiProblem) -> Response:
        headers = {"WWW-Authenticate": 'Bearer realm="pathway"'} if exc.status == 401 else None
        return problem(exc.status, exc.detail, kind=exc.kind, headers=headers, **exc.extra)

    @app.errorhandler(InvalidInput)
    def _invalid(exc: InvalidInput) -> Response:
        errors = [e.to_dict() for e in exc.errors] or None
        return problem(422, str(exc), kind="invalid-input", errors=errors)

    @app.errorhandler(ModelError)
    def _model(exc: ModelError) -> Response:
        return problem(422, "the model has problems; nothing was deployed", kind="model-error",
                       problems=[p.to_dict() for p in exc.problems])

    @app.errorhandler(ServiceError)
    def _service(exc: ServiceError) -> Response:
        return problem(exc.status, str(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        headers = {}
        valid = getattr(exc, "valid_methods", None)
        if status == 405 and valid:
            headers["Allow"] = ", ".join(valid)
        detail = exc.description if status != 404 else f"no resource at {request.path}"
        if status == 413:
            detail = f"the request body is larger than {app.config.get('MAX_CONTENT_LENGTH')} bytes"
        return problem(status, detail, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        reason = workflow_error(exc)
        if reason is not None:
            log.warning("workflow refused the data", extra={"event": "workflow_error", "status": 422})
            return problem(422, f"the pathway cannot proceed with these data: {reason}", kind="pathway-error")
        log.exception("unhandled error", extra={"event": "error", "path": request.url_rule.rule
                                                if request.url_rule else None})
        return problem(500, "an unexpected error occurred; it has been logged")
