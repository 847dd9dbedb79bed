"""The part of Camunda 7's REST API that Camunda Modeler's Deploy and Start buttons use.

Errors here keep Camunda's shape ``{"type": "...Exception", "message": ...}`` (plus the RFC 9457
``status``/``title``), because the Modeler shows ``message`` to its user.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, json, request
from pydantic import BaseModel, ConfigDict, Field, RootModel

from engine.problems import ModelError
from engine.service import NotFound, ServiceError

from .auth import AUTHORS, READERS, WORKERS, actor
from .definitions import uploaded_files
from .openapi import endpoint
from .problems import ApiProblem
from .schemas import Open
from .state import service
from .variables import camunda_variables

bp = Blueprint("camunda", __name__, url_prefix="/engine-rest")
ENGINE_VERSION = "7.22.0"
PARSE_CODE = "ENGINE-09005 Could not parse BPMN process."


class CamundaStartIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    businessKey: str | None = Field(default=None, max_length=255)
    variables: dict[str, Any] | None = None


class CamundaVersion(BaseModel):
    version: str


class CamundaDeployment(Open):
    id: str
    name: str | None
    source: str | None
    deploymentTime: str


class CamundaDeployments(RootModel[list[CamundaDeployment]]):
    pass


class CamundaDeploymentResult(CamundaDeployment):
    deployedProcessDefinitions: dict[str, Any] | None = None


class CamundaDeployForm(BaseModel):
    deployment_name: str | None = Field(default=None, alias="deployment-name")
    deployment_source: str | None = Field(default=None, alias="deployment-source")
    enable_duplicate_filtering: bool | None = Field(default=None, alias="enable-duplicate-filtering")
    deploy_changed_only: bool | None = Field(default=None, alias="deploy-changed-only")
    tenant_id: str | None = Field(default=None, alias="tenant-id")
    data: list[bytes] = Field(min_length=1, json_schema_extra={"items": {"type": "string", "format": "binary"}})


class DeploymentQuery(BaseModel):
    model_config = ConfigDict(extra="allow")

    maxResults: int | None = Field(default=None, ge=0)
    firstResult: int | None = Field(default=None, ge=0)


def _error(status: int, kind: str, message: str, **extra: Any) -> Response:
    body = {"type": kind, "message": message, "status": status, "title": kind, **extra}
    return Response(json.dumps(body), status=status, mimetype="application/json")


@bp.errorhandler(ApiProblem)
def _problem(exc: ApiProblem) -> Response:
    kinds = {401: "AuthenticationException", 403: "AuthorizationException", 404: "InvalidRequestException"}
    kind = exc.kind if exc.kind and exc.kind[0].isupper() else kinds.get(exc.status, "InvalidRequestException")
    response = _error(exc.status, kind, exc.detail, **exc.extra)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="engine-rest"'
    return response


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    kind = "RestException" if isinstance(exc, NotFound) else "ProcessEngineException"
    return _error(exc.status if exc.status != 422 else 400, kind, str(exc))


def _defid(row: dict[str, Any]) -> str:
    return f"{row['key']}:{row['version']}:{row['id']}"


def _definition(row: dict[str, Any], deployment_id: str) -> dict[str, Any]:
    return {"id": _defid(row), "key": row["key"], "version": row["version"], "name": row.get("name"),
            "deploymentId": deployment_id, "category": None, "description": None, "resource": None,
            "diagram": None, "suspended": False, "tenantId": None, "versionTag": None,
            "historyTimeToLive": None, "startableInTasklist": True}


def _deployment(row: dict[str, Any]) -> dict[str, Any]:
    """A stored version as a Camunda deployment: the name and source its deploying tool gave."""
    return {"id": f"deployment-{row['id']}", "name": row.get("deploymentName") or row.get("name") or row["key"],
            "source": row.get("deploymentSource"), "deploymentTime": row["createdAt"], "tenantId": None,
            "links": []}


@bp.get("/version")
@endpoint(roles=READERS, tags=("camunda",), ok={"HTTP_200": CamundaVersion})
def version() -> dict[str, str]:
    """The Camunda 7 REST version this subset imitates (the Modeler checks it)."""
    return {"version": ENGINE_VERSION}


@bp.get("/deployment")
@endpoint(roles=READERS, tags=("camunda",), query=DeploymentQuery, ok={"HTTP_200": CamundaDeployments})
def deployments(query: DeploymentQuery) -> list[dict[str, Any]]:
    """Deployments, newest first (``maxResults=0`` is the Modeler's connection check)."""
    rows = sorted(service().definitions(), key=lambda r: r["id"], reverse=True)
    start = query.firstResult or 0
    end = None if query.maxResults is None else start + query.maxResults
    return [_deployment(row) for row in rows[start:end]]


@bp.post("/deployment/create")
@endpoint(roles=AUTHORS, tags=("camunda",), form=CamundaDeployForm, skip_validation=True, errors=(400,),
          ok={"HTTP_200": CamundaDeploymentResult})
def create_deployment() -> Response | dict[str, Any]:
    """Deploy what the Modeler sends; a model error is 400 ``ENGINE-09005`` naming the elements.

    The Modeler deploys one diagram at a time, so the upload is merged into the latest version of
    every pathway that has a file of the same name (or the uploaded process id): deploying a
    changed ``triage.dmn`` alone makes a new version of the pathways that use it.
    """
    form = request.form
    given = {"name": form.get("deployment-name") or None, "source": form.get("deployment-source") or None}
    # deploy-changed-only implies duplicate filtering (Camunda 7 overrides the flag)
    filtering = any(form.get(flag, "false").lower() == "true"
                    for flag in ("enable-duplicate-filtering", "deploy-changed-only"))
    try:
        results = service().deploy_upload(uploaded_files(), actor=actor(), deployment=given)
    except ModelError as exc:
        return _parse_exception(exc)
    created = [r for r in results if r["created"]]
    if filtering and not created:  # nothing changed: the existing deployment, nothing deployed
        return {**_deployment(results[0]), "deployedProcessDefinitions": None, "deployedCaseDefinitions": None,
                "deployedDecisionDefinitions": None, "deployedDecisionRequirementsDefinitions": None}
    # without filtering Camunda would store an identical copy as a new version; we never store
    # the same meaning twice, and report the version that has it as deployed
    deployment = _deployment(created[0] if created else {**results[0], "deploymentName": given["name"],
                                                         "deploymentSource": given["source"]})
    deployed = {_defid(r): _definition(r, deployment["id"]) for r in (created if filtering else results)}
    return {**deployment, "deployedProcessDefinitions": deployed, "deployedCaseDefinitions": None,
            "deployedDecisionDefinitions": None, "deployedDecisionRequirementsDefinitions": None}


def _parse_exception(exc: ModelError) -> Response:
    lines = [f"{p.file} | {p.element} | {p.message}" for p in exc.problems]
    elements = sorted({p.element for p in exc.problems if p.element and p.element != "-"})
    message = f"{PARSE_CODE} Errors: " + "\n".join(f"* {line}" for line in lines)
    if elements:
        message += f"\nElements: {', '.join(elements)}"
    details: dict[str, Any] = {}
    for p in exc.problems:
        entry = details.setdefault(p.file, {"errors": [], "warnings": []})
        entry["errors"].append({"message": p.message, "line": None, "column": None, "mainElementId": p.element,
                                "elementIds": [p.element] if p.element != "-" else []})
    return _error(400, "ParseException", message, details=details)


def _start(key: str, version: int | None, body: dict[str, Any], definition_id: str) -> tuple[dict[str, Any], int]:
    svc = service()
    variables = camunda_variables(body.get("variables"))
    business_key = body.get("businessKey")
    if business_key is not None and not isinstance(business_key, str):
        raise ApiProblem(400, "businessKey must be a string", kind="InvalidRequestException")
    pathway_id = svc.enroll(key, actor=actor(), version=version, variables=variables, business_key=business_key)
    state = svc.pathway(pathway_id)
    return {"id": pathway_id, "definitionId": definition_id, "businessKey": business_key,
            "caseInstanceId": None, "ended": state["status"] != "running", "suspended": False,
            "tenantId": None, "links": [{"method": "GET", "href": f"/api/pathways/{pathway_id}", "rel": "self"}],
            "variables": None}, 200


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True) if request.get_data(cache=True) else {}
    if not isinstance(body, dict):
        raise ApiProblem(400, "the body must be a JSON object", kind="InvalidRequestException")
    return body


@bp.post("/process-definition/<definition_id>/start")
@endpoint(roles=WORKERS, tags=("camunda",), json=CamundaStartIn, ok={"HTTP_200": Open}, errors=(400, 404))
def start_by_id(definition_id: str, json: CamundaStartIn) -> tuple[dict[str, Any], int]:
    """Start a process instance of one definition version (id ``key:version:n``)."""
    key, _, rest = definition_id.partition(":")
    version_text = rest.partition(":")[0]
    if not key or not version_text.isdigit() or len(version_text) > 9:
        raise ApiProblem(404, f"No matching process definition with id '{definition_id}'")
    return _start(key, int(version_text), _body(), definition_id)


@bp.post("/process-definition/key/<key>/start")
@endpoint(roles=WORKERS, tags=("camunda",), json=CamundaStartIn, ok={"HTTP_200": Open}, errors=(400, 404))
def start_by_key(key: str, json: CamundaStartIn) -> tuple[dict[str, Any], int]:
    """Start a process instance of the latest version of ``key``."""
    latest = service().definition(key)
    return _start(key, None, _body(), _defid(latest))
