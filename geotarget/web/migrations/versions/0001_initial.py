"""Initial schema: users, submissions, topic answers, review comments, status events, app settings.

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-02

The whole schema of the first release: timestamps are stored in UTC (geotarget.web.db.UTCDateTime reads
them back timezone-aware); every table is dropped on downgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('applicant', 'reviewer')", name="ck_users_role"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("review_round", sa.Integer(), nullable=False),
        sa.Column("site_name", sa.String(length=200), nullable=False),
        sa.Column("site_kind", sa.String(length=16), nullable=False),
        sa.Column("site_wkt", sa.Text(), nullable=False),
        sa.Column("site_lon", sa.Float(), nullable=False),
        sa.Column("site_lat", sa.Float(), nullable=False),
        sa.Column("site_area_ha", sa.Float(), nullable=False),
        sa.Column("site_source", sa.Text(), nullable=False),
        sa.Column("site_given_as", sa.Text(), nullable=False),
        sa.Column("site_notes", sa.JSON(), nullable=False),
        sa.Column("ward_code", sa.String(length=16), nullable=True),
        sa.Column("ward_name", sa.String(length=200), nullable=True),
        sa.Column("council_code", sa.String(length=16), nullable=True),
        sa.Column("council_name", sa.String(length=200), nullable=True),
        sa.Column("buffers", sa.JSON(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("vintage", sa.String(length=64), nullable=False),
        sa.Column("generated", sa.String(length=32), nullable=False),
        sa.Column("geotarget_version", sa.String(length=64), nullable=False),
        sa.Column("severe", sa.Boolean(), nullable=False),
        sa.Column("flagged_topics", sa.JSON(), nullable=False),
        sa.Column("n_flags", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'submitted', 'returned', 'accepted')", name="ck_submissions_status"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index("ix_submissions_owner", ["owner_id"], unique=False)
        batch_op.create_index("ix_submissions_status", ["status"], unique=False)
        batch_op.create_index("ix_submissions_ward", ["ward_code"], unique=False)

    op.create_table(
        "review_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("topic IS NULL OR topic BETWEEN 1 AND 11", name="ck_review_comments_topic"),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("review_comments", schema=None) as batch_op:
        batch_op.create_index("ix_review_comments_submission", ["submission_id"], unique=False)

    op.create_table(
        "status_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("status_events", schema=None) as batch_op:
        batch_op.create_index("ix_status_events_submission", ["submission_id"], unique=False)

    op.create_table(
        "topic_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Integer(), nullable=False),
        sa.Column("relevant", sa.String(length=16), nullable=True),
        sa.Column("impact", sa.String(length=16), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("mitigation", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "impact IS NULL OR impact IN ('positive', 'negative', 'neutral', 'uncertain')",
            name="ck_topic_answers_impact",
        ),
        sa.CheckConstraint("relevant IS NULL OR relevant IN ('yes', 'no', 'unsure')", name="ck_topic_answers_relevant"),
        sa.CheckConstraint("topic BETWEEN 1 AND 11", name="ck_topic_answers_topic"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id", "topic", name="uq_topic_answers_submission_topic"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("topic_answers")
    with op.batch_alter_table("status_events", schema=None) as batch_op:
        batch_op.drop_index("ix_status_events_submission")

    op.drop_table("status_events")
    with op.batch_alter_table("review_comments", schema=None) as batch_op:
        batch_op.drop_index("ix_review_comments_submission")

    op.drop_table("review_comments")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_ward")
        batch_op.drop_index("ix_submissions_status")
        batch_op.drop_index("ix_submissions_owner")

    op.drop_table("submissions")
    op.drop_table("users")
    op.drop_table("app_settings")
