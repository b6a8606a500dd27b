"""message_waits: one row per (task, message name) — an event-based gateway waits on several messages

Revision ID: d4e8a1b2c3f6
Revises: c7a1d2e3f4b5
Create Date: 2026-11-26 09:00:00
"""
from alembic import op

revision = 'd4e8a1b2c3f6'
down_revision = 'c7a1d2e3f4b5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message_waits', schema=None) as batch_op:
        batch_op.drop_constraint('uq_message_waits_instance_id_task_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_message_waits_instance_id_task_id_message_name'),
                                          ['instance_id', 'task_id', 'message_name'])


def downgrade() -> None:
    with op.batch_alter_table('message_waits', schema=None) as batch_op:
        batch_op.drop_constraint('uq_message_waits_instance_id_task_id_message_name', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_message_waits_instance_id_task_id'),
                                          ['instance_id', 'task_id'])
