"""Migrating a pathway to another version of its definition, with a dry run first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..migration import Choices, migrate_runtime
from ..migration_plan import PlanChoiceError
from ..store import Instance, get_definition
from .context import ServiceContext
from .errors import Conflict, InvalidInput, NotFound
from .persist import save, snapshot


class MigrationService:
    ctx: ServiceContext

    def migrate(self, instance_id: str, version: int, *, actor: str, dry_run: bool = False,
                timers: Mapping[str, str] | None = None, decisions: Mapping[str, str] | None = None,
                start: Iterable[str] = ()) -> dict[str, Any]:
        """Move a running pathway to ``version`` of its definition key.

        The dry run does the whole migration on a throw-away copy and reports it: which active
        elements move where, which changed, each waiting timer's kept and recomputed due time,
        each decision already run whose result would differ now, and the added tasks this patient
        will not get. ``timers``, ``decisions`` and ``start`` (added tasks to start for this
        patient now, outside the flow) are the lead's choices (see
        :class:`engine.migration.Choices`); the real migration with the same choices does exactly
        what the dry run reported. A migration that is not possible raises ``Conflict`` (the
        report says why) and changes nothing; a choice for something the plan does not list is
        ``InvalidInput``.
        """
        choices = Choices(timers=dict(timers or {}), decisions=dict(decisions or {}), start=tuple(start))
        with (self.ctx.read() if dry_run else self.ctx.write()) as session:
            instance = session.get(Instance, instance_id) if dry_run else self.ctx.lock(session, instance_id)
            if instance is None:
                raise NotFound(f"pathway {instance_id} not found")
            current = instance.definition
            if instance.status != "running":
                raise Conflict(f"pathway {instance_id} is {instance.status}; only running pathways migrate")
            target = get_definition(session, current.key, version)
            if target is None:
                raise NotFound(f"definition '{current.key}' version {version} not found")
            if target.id == current.id:
                raise Conflict(f"pathway {instance_id} is already on version {version}")
            runtime = self.ctx.load_runtime(session, instance)
            before = snapshot(runtime)
            bundle = self.ctx.bundle_for(target)
            try:
                migrated, report = migrate_runtime(runtime, bundle, choices)
            except PlanChoiceError as exc:
                raise InvalidInput(str(exc)) from exc
            result = {"pathwayId": instance_id, "dryRun": dry_run, "fromVersion": current.version,
                      "toVersion": target.version, **report.to_dict(), "migrated": False}
            if dry_run:
                return result
            if not report.possible:
                raise Conflict("the pathway cannot move to version "
                               f"{target.version}: {'; '.join(report.blocking)}")
            instance.definition_id = target.id
            instance.definition = target
            save(self.ctx, session, instance, migrated, actor=actor, action="pathway.migrate", before=before,
                 details={"from": {"key": current.key, "version": current.version},
                          "to": {"key": target.key, "version": target.version}, **report.to_dict()})
            return {**result, "migrated": True}
