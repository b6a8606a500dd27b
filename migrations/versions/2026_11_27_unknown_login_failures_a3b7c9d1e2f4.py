"""unknown_login_failures: captcha/lockout counters for identifiers that name no account

Revision ID: a3b7c9d1e2f4
Revises: f6a0c3d4e5b8
Create Date: 2026-11-27 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'a3b7c9d1e2f4'
down_revision = 'f6a0c3d4e5b8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('unknown_login_failures',
    sa.Column('identifier_hash', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('identifier_hash', name=op.f('pk_unknown_login_failures'))
    )
    with op.batch_alter_table('unknown_login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unknown_login_failures_last_failure_at'), ['last_failure_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('unknown_login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unknown_login_failures_last_failure_at'))
    op.drop_table('unknown_login_failures')
