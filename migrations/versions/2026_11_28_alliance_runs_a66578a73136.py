"""alliance runs

Revision ID: a66578a73136
Revises: a35823ffe7fd
Create Date: 2026-11-28 10:32:06.000074

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a66578a73136"
down_revision: str | Sequence[str] | None = "a35823ffe7fd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Alliance runs: the request and the candidate groups returned."""
    op.create_table(
        "alliance_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("model_id", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alliance_run")),
    )


def downgrade() -> None:
    """Drop the alliance runs."""
    op.drop_table("alliance_run")
