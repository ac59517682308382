"""Review before issue: a document's review state, and every review action

Revision ID: 0012
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as table:
        table.add_column(sa.Column("review_state", sa.String(length=20), nullable=True))
        table.add_column(sa.Column("review_because", sa.String(length=120), nullable=True))
        table.add_column(sa.Column("review_requested_by", sa.String(length=300), nullable=True))
        table.add_column(sa.Column("review_composer_staff", sa.Integer(), nullable=True))
        table.add_column(sa.Column("review_decided_by", sa.String(length=300), nullable=True))
        table.add_column(sa.Column("review_decided_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("review_reason", sa.Text(), nullable=True))
    op.create_table(
        "review_actions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "document_id", sa.String(length=36), sa.ForeignKey("documents.id"), nullable=False
        ),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
    )
    op.create_index("ix_review_actions_document_id", "review_actions", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_review_actions_document_id", table_name="review_actions")
    op.drop_table("review_actions")
    with op.batch_alter_table("documents") as table:
        for column in (
            "review_reason",
            "review_decided_at",
            "review_decided_by",
            "review_composer_staff",
            "review_requested_by",
            "review_because",
            "review_state",
        ):
            table.drop_column(column)
