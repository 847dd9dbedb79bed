"""Worklist queries whose cost follows the page (issue 10): a sortable due column with no NULLs
(undated tasks sort last through a far-future value) indexed in worklist order, and an index of
ready tasks per candidate group in the same order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engine.store.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from engine.store.models import UNDATED

    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("due_order", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE tasks SET due_order = COALESCE(due_at, :far)")
               .bindparams(sa.bindparam("far", UNDATED, type_=UTCDateTime())))
    with op.batch_alter_table("tasks") as batch:
        batch.alter_column("due_order", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.create_index("ix_tasks_worklist", ["status", "due_order", "created_at", "id"])
    op.create_table(
        "ready_task_groups",
        sa.Column("group_name", sa.String(255), primary_key=True),
        sa.Column("due_order", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("task_id", sa.String(36), sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_ready_task_groups_task", "ready_task_groups", ["task_id"])
    op.execute(sa.text(
        "INSERT INTO ready_task_groups (group_name, due_order, created_at, task_id) "
        "SELECT g.group_name, t.due_order, t.created_at, t.id FROM task_candidate_groups g "
        "JOIN tasks t ON t.id = g.task_id WHERE t.status = 'ready'"))


def downgrade() -> None:
    op.drop_index("ix_ready_task_groups_task", table_name="ready_task_groups")
    op.drop_table("ready_task_groups")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_worklist")
        batch.drop_column("due_order")
