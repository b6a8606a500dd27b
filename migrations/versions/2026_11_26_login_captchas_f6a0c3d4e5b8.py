"""login_captchas: graphic captcha challenges after a failed login (seed 003 1.4)

Revision ID: f6a0c3d4e5b8
Revises: e5f9b2c3d4a7
Create Date: 2026-11-26 11:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f6a0c3d4e5b8'
down_revision = 'e5f9b2c3d4a7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_captchas',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('answer', sa.String(length=8), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_captchas'))
    )
    with op.batch_alter_table('login_captchas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_captchas_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_captchas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_captchas_expires_at'))
    op.drop_table('login_captchas')
