"""spent_form_tokens: the staff UI's spent one-time form tokens, shared by every process

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spent_form_tokens",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spent_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_spent_form_tokens_issued_at", "spent_form_tokens", ["issued_at"])


def downgrade() -> None:
    op.drop_index("ix_spent_form_tokens_issued_at", "spent_form_tokens")
    op.drop_table("spent_form_tokens")
