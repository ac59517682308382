"""webhooks: endpoints, the event outbox, and the request id kept with each document and
delivery (their log lines carry it)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table_name in ("documents", "deliveries"):
        with op.batch_alter_table(table_name) as table:
            table.add_column(sa.Column("request_id", sa.String(64), nullable=True))
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("api_key_id", sa.Integer(), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("all_documents", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_webhook_endpoints_api_key_id", "webhook_endpoints", ["api_key_id"])
    op.create_table(
        "webhook_events",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column(
            "endpoint_id", sa.String(36), sa.ForeignKey("webhook_endpoints.id"), nullable=False
        ),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("document_id", sa.String(36), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("id", "endpoint_id", name="uq_webhook_events_endpoint"),
    )
    op.create_index("ix_webhook_events_due", "webhook_events", ["status", "next_attempt_at"])
    op.create_index(
        "ix_webhook_events_order", "webhook_events", ["endpoint_id", "document_id", "seq"]
    )


def downgrade() -> None:
    op.drop_table("webhook_events")
    op.drop_table("webhook_endpoints")
    for table_name in ("documents", "deliveries"):
        with op.batch_alter_table(table_name) as table:
            table.drop_column("request_id")
