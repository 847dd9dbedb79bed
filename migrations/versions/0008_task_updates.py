"""Tasks keep when they last changed and what was answered (issue 12: FHIR ``_lastUpdated``
polling and ``Task.output``). Rows from before get their last known change (completion or
creation) and no answers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("answers", sa.JSON(none_as_null=True), nullable=True))
    op.execute("UPDATE tasks SET updated_at = COALESCE(completed_at, created_at)")
    op.create_index("ix_tasks_updated_at", "tasks", ["updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_updated_at", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("answers")
        batch.drop_column("updated_at")
