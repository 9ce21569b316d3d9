"""match run: the min_score it was asked with

Revision ID: b41c7d2e9a10
Revises: 6f2743209c3c
Create Date: 2026-11-28 09:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b41c7d2e9a10"
down_revision: str | Sequence[str] | None = "6f2743209c3c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Runs made before this revision showed every result: their min_score is 0."""
    with op.batch_alter_table("match_run") as batch:
        batch.add_column(sa.Column("min_score", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("match_run") as batch:
        batch.drop_column("min_score")
