"""Deploying and reading pathway definitions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models.bundle import load_bundle
from ..models.diff import diff_bundles
from ..problems import ModelError
from ..store import Definition, add_audit, get_definition, list_definitions, store_definition
from ..verify.on_deploy import check, mode_from_env
from .context import ServiceContext
from .errors import NotFound


def definition_view(row: Definition) -> dict[str, Any]:
    return {"id": row.id, "key": row.key, "version": row.version, "sha256": row.sha256, "name": row.name,
            "createdAt": row.created_at.isoformat(), "deployedBy": row.deployed_by,
            "deploymentName": row.deployment_name, "deploymentSource": row.deployment_source}


class DefinitionService:
    ctx: ServiceContext
    verify_on_deploy: str | None = None  # off | warn | refuse; None: PATHWAY_VERIFY_ON_DEPLOY

    def deploy(self, files: Mapping[str, bytes | str], *, actor: str, key: str | None = None,
               lint: bool = True, deployment: Mapping[str, str | None] | None = None) -> dict[str, Any]:
        """Lint, parse and store a bundle; a bundle meaning what the latest version means (only
        layout or formatting changed) is that version, not a new one.

        ``deployment``: the ``name`` and ``source`` the deploying tool gave, kept with a new version.

        Raises ``ModelError`` (with every finding) before anything is written. Safety property
        files (``*.safety.yaml``) are stored with the version and checked by the verifier when the
        site runs it at deploy.
        """
        # lint=False: only for replaying a verifier counterexample on a model the checks refuse
        bundle = load_bundle(files, key=key, lint=lint)
        verification = check(files, bundle, self.verify_on_deploy or mode_from_env())
        if verification.mode == "refuse" and any(p.is_error for p in verification.findings):
            raise ModelError(verification.findings)
        specs = bundle.spec_state()
        with self.ctx.write() as session:
            row, created = store_definition(
                session, key=bundle.key, name=bundle.name, sha256=bundle.sha256, spec_json=specs,
                sources=bundle.sources, deployed_by=actor, now=self.ctx.now(),
                deployment_name=(deployment or {}).get("name"), deployment_source=(deployment or {}).get("source"),
            )
            if created:
                add_audit(session, at=self.ctx.now(), actor=actor, action="definition.deploy",
                          details={"key": row.key, "version": row.version, "sha256": row.sha256,
                                   "files": sorted(bundle.sources)})
            session.flush()
            result = {**definition_view(row), "created": created}
        if verification.mode != "off":
            result["verification"] = verification.summary()
        self.ctx.remember(result["id"], bundle)
        return result

    def definitions(self, key: str | None = None) -> list[dict[str, Any]]:
        with self.ctx.read() as session:
            return [definition_view(row) for row in list_definitions(session, key)]

    def start_form(self, key: str, version: int | None = None) -> dict[str, Any] | None:
        """The start form of a version (the latest unless given): the fields enrolment takes."""
        with self.ctx.read() as session:
            row = get_definition(session, key, version)
            if row is None:
                raise NotFound(f"definition '{key}'" + (f" version {version}" if version else "") + " not found")
            bundle = self.ctx.bundle_for(row)
        return bundle.start_form

    def candidate_groups(self) -> list[str]:
        """The candidate groups the latest version of each deployed pathway offers tasks to (for
        a worklist's group filter; an expression's groups are not known before it runs)."""
        with self.ctx.read() as session:
            latest = list(list_definitions(session, latest_only=True))
            bundles = [self.ctx.bundle_for(row) for row in latest]
        return sorted(set().union(*(b.candidate_groups for b in bundles)))

    def definition(self, key: str, version: int | None = None) -> dict[str, Any]:
        with self.ctx.read() as session:
            row = get_definition(session, key, version)
            if row is None:
                raise NotFound(f"definition '{key}'" + (f" version {version}" if version else "") + " not found")
            return {**definition_view(row), "files": sorted(row.sources)}

    def definition_source(self, key: str, version: int | None = None, suffix: str = ".bpmn") -> dict[str, str]:
        with self.ctx.read() as session:
            row = get_definition(session, key, version)
            if row is None:
                raise NotFound(f"definition '{key}' not found")
            return {name: text for name, text in row.sources.items() if name.lower().endswith(suffix)}

    def diff(self, key: str, old: int | None = None, new: int | None = None) -> dict[str, Any]:
        """What changed in meaning from version ``old`` to ``new`` of ``key`` (``new``: the latest;
        ``old``: the one before ``new``), each change in the words a clinical lead reads."""
        with self.ctx.read() as session:
            after = get_definition(session, key, new)
            if after is None:
                raise NotFound(f"definition '{key}'" + (f" version {new}" if new else "") + " not found")
            before = get_definition(session, key, old if old is not None else after.version - 1)
            if before is None:
                raise NotFound(f"definition '{key}' version {old if old is not None else after.version - 1} "
                               "not found")
            changes = diff_bundles(before.sources, after.sources)
            return {"key": key, "from": before.version, "to": after.version,
                    "changes": [c.to_dict() for c in changes]}
