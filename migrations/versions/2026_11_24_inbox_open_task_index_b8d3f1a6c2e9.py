"""inbox_open_task_index: partial index over open human tasks for the inbox's candidate-id probes

Revision ID: b8d3f1a6c2e9
Revises: a7c2e9d41b06
Create Date: 2026-11-24 00:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'b8d3f1a6c2e9'
down_revision = 'a7c2e9d41b06'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # INCLUDE is PostgreSQL-only (SQLite ignores postgresql_include); both get the partial WHERE.
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_human_tasks_open', ['id'], unique=False,
                              postgresql_include=['assignee', 'created_at', 'due_at', 'priority'],
                              postgresql_where=sa.text("state = 'open'"), sqlite_where=sa.text("state = 'open'"))


def downgrade() -> None:
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_human_tasks_open', postgresql_where=sa.text("state = 'open'"),
                            sqlite_where=sa.text("state = 'open'"))
