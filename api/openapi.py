"""The OpenAPI 3.1 document, generated from the routes by spectree (pydantic models), and the
``endpoint`` decorator every route uses: roles first (401/403), then request validation (422)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import flask_swagger_ui
from flask import Flask, Response, request, send_from_directory
from spectree import Response as Responses
from spectree import SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData

from .auth import roles as require_roles
from .problems import PROBLEM_MIME, ApiProblem, field_errors_from_pydantic
from .schemas import NoQuery, Problem

F = TypeVar("F", bound=Callable[..., Any])

DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Care pathway API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head>
<body><main id="ui"></main>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
<noscript>The machine-readable description is at <a href="/api/openapi.json">/api/openapi.json</a>.</noscript>
</body></html>
"""
DOCS_INIT = 'SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#ui"});\n'
# Swagger UI's files come from the flask-swagger-ui wheel: the docs work offline, no CDN
DOCS_ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"
DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"


def _reject_invalid(req: Any, resp: Any, error: Any, instance: Any, adapter: Any = None) -> None:
    """spectree's before-hook: answer invalid requests with our problem document."""
    if error is not None:
        errors = field_errors_from_pydantic(error.errors())
        raise ApiProblem(422, "the request is not valid", kind="invalid-input", errors=errors)


spec = SpecTree(
    "flask",
    mode="strict",
    # spectree skips routes under its own path when it builds the document, so its path must
    # not be "api"; we serve the document at /api/openapi.json ourselves (see init_openapi).
    path="api/openapi",
    filename="spectree.json",
    page_templates={},
    title="Care pathway API",
    description="Guideline care pathways (BPMN + DMN) for coordinators, clinical leads and polling "
                "systems. Errors are RFC 9457 problem+json. Each operation lists the roles it allows.",
    version="1",
    security_schemes=[
        SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer")),
        SecurityScheme(name="basic", data=SecuritySchemeData(type="http", scheme="basic")),
    ],
    security=[{"bearer": []}, {"basic": []}],
    before=_reject_invalid,
    validation_error_status=422,
)

ERRORS = {"HTTP_401": Problem, "HTTP_403": Problem, "HTTP_404": Problem, "HTTP_422": Problem}


def endpoint(*, roles: Iterable[str] | None, tags: tuple[str, ...], ok: dict[str, Any] | None = None,
             errors: Iterable[int] = (), **validate: Any) -> Callable[[F], F]:
    """Document and guard a view: ``roles=None`` means public (no token)."""
    if "query" not in validate and "camunda" not in tags:  # Camunda clients send their own extras
        validate["query"] = NoQuery
    statuses: dict[str, Any] = {**(ok or {})}
    # a JSON body can be malformed (400) or not JSON at all (415), whatever the route
    body = (400, 415) if validate.get("json") is not None else ()
    for code in (*((401, 403, 422) if roles is not None else ()), *body, *errors):
        statuses.setdefault(f"HTTP_{code}", Problem)

    def decorate(view: F) -> F:
        checked = spec.validate(resp=Responses(**statuses), tags=list(tags),
                                security={} if roles is None else None, **validate)(view)
        if validate.get("json") is not None:
            checked = _json_only(checked)
        if validate.get("skip_validation") and validate.get("query") is NoQuery:
            checked = _no_query(checked)  # spectree does not look at the request at all here
        if roles is None:
            return checked  # type: ignore[return-value]
        allowed = frozenset(roles)
        guarded = require_roles(allowed)(checked)
        doc = (view.__doc__ or "").strip()
        guarded.__doc__ = f"{doc}\n\nRoles: {', '.join(sorted(allowed))}."
        return guarded

    return decorate


def _json_only(view: F) -> F:
    """A JSON body route refuses other media types (415) instead of reading them as ``{}``."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.get_data(cache=True) and not request.is_json:
            raise ApiProblem(415, "send the body as application/json", kind="unsupported-media-type")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _no_query(view: F) -> F:
    """Refuse query parameters on a route that takes none, as spectree would (422, per field)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.args:
            raise ApiProblem(422, "the request is not valid", kind="invalid-input", errors=[
                {"field": name, "code": "extra_forbidden", "message": "Extra inputs are not permitted"}
                for name in request.args])
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


_document: dict[str, Any] = {}


def document() -> dict[str, Any]:
    """spectree's document, with error bodies typed ``application/problem+json`` (built once)."""
    if not _document:
        doc = copy.deepcopy(spec.spec)
        for path, operations in doc["paths"].items():
            if path.startswith("/engine-rest"):
                continue  # Camunda-shaped errors there
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status.startswith(("4", "5")) and "application/json" in content:
                        response["content"] = {PROBLEM_MIME: content["application/json"]}
        for path, body in RAW_BODIES.items():  # bodies spectree cannot describe (not JSON or a form)
            doc["paths"][path]["post"]["requestBody"] = body
        _document.update(doc)
    return _document


# text bodies of routes that take rows, not JSON
RAW_BODIES: dict[str, Any] = {
    "/api/enrolments": {"required": True, "content": {
        "text/csv": {"schema": {"type": "string", "description": "header with externalId, one patient per row"}},
        "application/x-ndjson": {"schema": {"type": "string", "description": "one JSON object per line"}},
    }},
}


def init_openapi(app: Flask) -> None:
    spec.register(app)

    @app.get("/api/openapi.json")
    def openapi_document() -> Response:
        return app.json.response(document())

    @app.get("/api/docs")
    def api_docs() -> Response:
        return Response(DOCS_PAGE, mimetype="text/html", headers={"Content-Security-Policy": DOCS_CSP})

    @app.get("/api/docs/init.js")
    def api_docs_init() -> Response:
        return Response(DOCS_INIT, mimetype="text/javascript")

    @app.get("/api/docs/assets/<path:filename>")
    def api_docs_asset(filename: str) -> Response:
        return send_from_directory(DOCS_ASSETS, filename, max_age=86400)
