"""match run: the fields it was limited to

Revision ID: 5c8e1f3a7d24
Revises: 996470a9b8ae
Create Date: 2026-11-28 17:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c8e1f3a7d24"
down_revision: str | Sequence[str] | None = "996470a9b8ae"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Runs made before this revision were not limited to fields: theirs is null."""
    with op.batch_alter_table("match_run") as batch:
        batch.add_column(sa.Column("fields", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("match_run") as batch:
        batch.drop_column("fields")
