"""Deploying what an author uploads: one changed diagram or table at a time (as Camunda Modeler's
Deploy button and the web app's lead page send it), merged into the latest version of each
pathway it belongs to, all or nothing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..models.bundle import SAFETY_SUFFIX, load_bundle
from ..problems import ModelError, Problem

_PROCESS_ID = re.compile(r'<(?:[\w.-]+:)?process\b[^>]*?\bid="([^"]+)"')
MODEL_SUFFIXES = (".bpmn", ".dmn", ".bpmn20.xml", ".dmn11.xml", SAFETY_SUFFIX)


def model_files(uploaded: Mapping[str, bytes]) -> dict[str, bytes]:
    """The BPMN and DMN parts (and safety properties); the Modeler may attach forms and other
    files the engine does not run."""
    kept = {name: content for name, content in uploaded.items() if name.lower().endswith(MODEL_SUFFIXES)}
    if not kept:
        raise ModelError([Problem("-", "-", "no .bpmn or .dmn file was uploaded")])
    return kept


class UploadService:
    def merged_bundles(self, uploaded: Mapping[str, bytes]) -> list[dict[str, bytes | str]]:
        """The upload on its own, or merged into each latest pathway version it belongs to.

        A pathway belongs when its latest version has a file of an uploaded name or runs a process
        an uploaded diagram defines; in the merge, files defining the uploaded processes under
        another name are replaced too (a diagram saved under a new file name).
        """
        latest: dict[str, int] = {}
        for row in self.definitions():  # type: ignore[attr-defined]
            latest[row["key"]] = max(latest.get(row["key"], 0), row["version"])
        processes = {pid for content in uploaded.values()
                     for pid in _PROCESS_ID.findall(content.decode("utf-8-sig", "replace"))}
        bundles: list[dict[str, bytes | str]] = []
        for key, version in sorted(latest.items()):
            sources = self.definition_source(key, version, "")  # type: ignore[attr-defined]
            if not (set(sources) & set(uploaded) or key in processes):
                continue
            kept = {name: text for name, text in sources.items()
                    if name in uploaded or not set(_PROCESS_ID.findall(text)) & processes}
            bundles.append({**kept, **uploaded})
        return bundles or [dict(uploaded)]

    def deploy_upload(self, uploaded: Mapping[str, bytes], *, actor: str,
                      deployment: Mapping[str, str | None] | None = None) -> list[dict[str, Any]]:
        """Deploy the upload merged into every pathway it belongs to; if any merged bundle has an
        error, nothing is stored and ``ModelError`` names every finding. ``deployment``: the name
        and source the deploying tool gave."""
        bundles = self.merged_bundles(model_files(uploaded))
        if len(bundles) > 1:
            problems = []
            for files in bundles:
                try:
                    load_bundle(files)
                except ModelError as exc:
                    problems.extend(exc.problems)
            if problems:
                raise ModelError(problems)
        return [self.deploy(files, actor=actor, deployment=deployment) for files in bundles]  # type: ignore[attr-defined]
