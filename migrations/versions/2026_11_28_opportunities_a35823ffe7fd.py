"""opportunities

Revision ID: a35823ffe7fd
Revises: b41c7d2e9a10
Create Date: 2026-11-28 09:55:45.583457

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a35823ffe7fd"
down_revision: str | Sequence[str] | None = "b41c7d2e9a10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Opportunities, their member organisations and their append-only events."""
    op.create_table(
        "opportunity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("pair_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("match_run_id", sa.Integer(), nullable=True),
        sa.Column("match_rank", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("components", sa.JSON(), nullable=True),
        sa.Column("decline_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity")),
    )
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opportunity_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunity_due_date"), ["due_date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_opportunity_match_run_id"), ["match_run_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_opportunity_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunity_region"), ["region"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunity_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunity_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index(
            "uq_opportunity_active_pair",
            ["pair_key"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )

    op.create_table(
        "opportunity_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("from_value", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("to_value", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunity.id"],
            name=op.f("fk_opportunity_event_opportunity_id_opportunity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity_event")),
    )
    with op.batch_alter_table("opportunity_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opportunity_event_opportunity_id"), ["opportunity_id"], unique=False
        )

    op.create_table(
        "opportunity_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunity.id"],
            name=op.f("fk_opportunity_member_opportunity_id_opportunity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity_member")),
        sa.UniqueConstraint(
            "opportunity_id",
            "organization_id",
            name=op.f("uq_opportunity_member_opportunity_id_organization_id"),
        ),
    )
    with op.batch_alter_table("opportunity_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opportunity_member_opportunity_id"), ["opportunity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_opportunity_member_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    """Drop the follow-up tables (their indexes go with them)."""
    op.drop_table("opportunity_member")
    op.drop_table("opportunity_event")
    op.drop_table("opportunity")
