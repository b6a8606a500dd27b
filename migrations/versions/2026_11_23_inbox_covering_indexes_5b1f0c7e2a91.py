"""inbox covering indexes

Revision ID: 5b1f0c7e2a91
Revises: c1719f373d8d
Create Date: 2026-11-23 17:30:00

Covering indexes for the staff inbox (bench/inbox_page.py: 10,000 open tasks for one user): the
paged 待办 query walks open tasks in display order and checks visibility from the index alone.
Two older indexes are replaced by the covering ones that extend them (same leading columns).
"""
from alembic import op

revision = "5b1f0c7e2a91"
down_revision = 'c1719f373d8d'
branch_labels = None
depends_on = None

HUMAN_TASK_INDEXES = {
    "ix_human_tasks_inbox_received": ["state", "created_at", "assignee", "id"],
    "ix_human_tasks_inbox_due": ["state", "due_at", "assignee", "id"],
    "ix_human_tasks_inbox_assignee": ["state", "assignee", "id"],
}


def upgrade() -> None:
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_human_tasks_state_due")  # (state, due_at): a prefix of ix_human_tasks_inbox_due
        for name, columns in HUMAN_TASK_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table("task_candidates", schema=None) as batch_op:
        batch_op.drop_index("ix_task_candidates_lookup")  # (kind, value, institution): a prefix of the new one
        batch_op.create_index("ix_task_candidates_visible", ["kind", "value", "institution", "task_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_candidates", schema=None) as batch_op:
        batch_op.drop_index("ix_task_candidates_visible")
        batch_op.create_index("ix_task_candidates_lookup", ["kind", "value", "institution"], unique=False)
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        for name in reversed(HUMAN_TASK_INDEXES):
            batch_op.drop_index(name)
        batch_op.create_index("ix_human_tasks_state_due", ["state", "due_at"], unique=False)
