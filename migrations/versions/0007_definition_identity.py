"""Versions by meaning (issue 11): ``definitions.sha256`` becomes the hash of the bundle's
canonical form (diagram layout, formatting, prefixes and written-out defaults left out), and no
longer has to be unique per key: returning to an earlier content after a change is a new version.
Deployments keep the name and source the deploying tool gave.

The hashes of rows already stored are recomputed here with the canonical form of this release
(``engine.models.canonical``); a later change of that form needs a migration of its own.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engine.models.canonical import canonical_hash

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("definitions") as batch:
        batch.drop_constraint("uq_definitions_key_sha256", type_="unique")
        batch.add_column(sa.Column("deployment_name", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("deployment_source", sa.String(length=255), nullable=True))
        batch.create_index("ix_definitions_key_sha256", ["key", "sha256"])
    bind = op.get_bind()
    for row_id, sources in bind.execute(sa.text("SELECT id, sources FROM definitions")).all():
        files = json.loads(sources) if isinstance(sources, str) else sources
        bind.execute(sa.text("UPDATE definitions SET sha256 = :h WHERE id = :id"),
                     {"h": canonical_hash(files), "id": row_id})


def downgrade() -> None:
    # the canonical hashes stay: two versions of one key may now share one, which the old unique
    # constraint would refuse, so it is not restored
    with op.batch_alter_table("definitions") as batch:
        batch.drop_index("ix_definitions_key_sha256")
        batch.drop_column("deployment_source")
        batch.drop_column("deployment_name")
