"""PostgreSQL storage settings for the rows every command rewrites (issue 10).

Each command rewrites a pathway's state (tens of KB of JSON, stored out of line in the table's
TOAST relation), updates its task rows and churns the ready-task index. Every rewrite leaves a
dead row version until (auto)vacuum reclaims it. PostgreSQL's defaults wait until 20% of a
table is dead: on 100k pathways that is 20k dead states, hundreds of MB. These tables are
vacuumed after 1% instead (plus a small floor), their TOAST relations too, and the instance and
task rows keep free room on each page so that a rewrite can stay on the same page (a HOT
update: no index entry written, the old version pruned without vacuum). The state is
compressed with lz4 where the server was built with it (faster than the default pglz on every
load and save). SQLite reuses freed pages on its own, so it needs nothing here.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VACUUM_SOON = (
    "autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 100, "
    "autovacuum_analyze_scale_factor = 0.02"
)
_TOAST_VACUUM_SOON = "toast.autovacuum_vacuum_scale_factor = 0.01, toast.autovacuum_vacuum_threshold = 100"

SETTINGS = {
    "instances": f"fillfactor = 70, {_VACUUM_SOON}, {_TOAST_VACUUM_SOON}",
    "tasks": f"fillfactor = 80, {_VACUUM_SOON}, {_TOAST_VACUUM_SOON}",
    "ready_task_groups": _VACUUM_SOON,
    "task_candidate_groups": _VACUUM_SOON,
}
_RESET = {
    "instances": "fillfactor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, "
    "autovacuum_analyze_scale_factor, toast.autovacuum_vacuum_scale_factor, toast.autovacuum_vacuum_threshold",
}
_RESET["tasks"] = _RESET["instances"]
_RESET["ready_task_groups"] = _RESET["task_candidate_groups"] = (
    "autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_analyze_scale_factor"
)


def _has_lz4() -> bool:
    found = op.get_bind().execute(
        text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    ).scalar()
    return bool(found)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, settings in SETTINGS.items():
        op.execute(f"ALTER TABLE {table} SET ({settings})")
    if _has_lz4():  # applies to states written from now on; old ones stay readable as they are
        op.execute("ALTER TABLE instances ALTER COLUMN state SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, settings in _RESET.items():
        op.execute(f"ALTER TABLE {table} RESET ({settings})")
    if _has_lz4():
        op.execute("ALTER TABLE instances ALTER COLUMN state SET COMPRESSION default")
