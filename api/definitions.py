"""Definitions: deploy a bundle of BPMN + DMN files (linted first), list versions, read the XML."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from engine.problems import ModelError, Problem

from .auth import AUTHORS, READERS, actor
from .openapi import endpoint
from .problems import ApiProblem
from .schemas import (
    DefinitionList,
    DefinitionOut,
    DefinitionQuery,
    DeployedOut,
    DeployForm,
    DiffOut,
    DiffQuery,
)
from .state import service

bp = Blueprint("definitions", __name__, url_prefix="/api/definitions")


def uploaded_files(parts: Any = None) -> dict[str, bytes]:
    """Every uploaded file part, keyed by its file name (the part name when it has none)."""
    if not request.mimetype.startswith("multipart/"):
        raise ApiProblem(415, "upload the files as multipart/form-data", kind="unsupported-media-type")
    files: dict[str, bytes] = {}
    for field, storage in (parts if parts is not None else request.files).items(multi=True):
        name = (storage.filename or field or "").replace("\\", "/").rsplit("/", 1)[-1]
        if not name:
            continue
        if name in files:
            raise ModelError([Problem(name, "-", "the same file name was uploaded twice")])
        content = storage.read()
        try:
            content.decode("utf-8-sig")
        except UnicodeDecodeError:
            # load_bundle would raise UnicodeDecodeError (a 500); say what is wrong instead.
            raise ModelError([Problem(name, "-", "the file is not UTF-8 text")]) from None
        files[name] = content
    if not files:
        raise ModelError([Problem("-", "-", "no files were uploaded: send the .bpmn and .dmn files as parts")])
    return files


@bp.post("")
@endpoint(roles=AUTHORS, tags=("definitions",), form=DeployForm, skip_validation=True,
          ok={"HTTP_201": DeployedOut, "HTTP_200": DeployedOut}, errors=(415, 413))
def deploy() -> tuple[dict[str, Any], int]:
    """Deploy BPMN + DMN files as a new version (201), or find the identical one (200)."""
    result = service().deploy(uploaded_files(), actor=actor())
    return result, 201 if result["created"] else 200


@bp.get("")
@endpoint(roles=READERS, tags=("definitions",), query=DefinitionQuery, ok={"HTTP_200": DefinitionList})
def list_definitions(query: DefinitionQuery) -> dict[str, Any]:
    """Every deployed version, by key then version."""
    return {"items": service().definitions(query.key)}


@bp.get("/<key>/diff")
@endpoint(roles=READERS, tags=("definitions",), query=DiffQuery, ok={"HTTP_200": DiffOut}, errors=(404,))
def diff(key: str, query: DiffQuery) -> dict[str, Any]:
    """What changed in meaning between two versions (``to``: the latest by default; ``from``: the
    version before ``to``): elements, timers, decision rules cell by cell and form fields, each
    with a sentence for a clinical lead. Layout and formatting never count as a change."""
    return service().diff(key, query.from_, query.to)


@bp.get("/<key>/versions/<int:version>")
@endpoint(roles=READERS, tags=("definitions",), ok={"HTTP_200": DefinitionOut}, errors=(404,))
def version_detail(key: str, version: int) -> dict[str, Any]:
    """One deployed version, with its file names."""
    return service().definition(key, version)


@bp.get("/<key>/versions/<int:version>/bpmn")
@endpoint(roles=READERS, tags=("definitions",), ok={"HTTP_200": None}, errors=(404,))
def version_bpmn(key: str, version: int) -> Response:
    """The BPMN XML of one version (the file that holds the process ``key``)."""
    sources = service().definition_source(key, version, ".bpmn")
    if not sources:
        raise ApiProblem(404, f"definition '{key}' version {version} has no BPMN file")
    chosen = next((text for text in sources.values() if f'id="{key}"' in text), None)
    text = chosen or sources[sorted(sources)[0]]
    return Response(text, mimetype="application/xml")
