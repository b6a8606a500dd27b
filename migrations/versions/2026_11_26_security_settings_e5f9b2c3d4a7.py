"""security_settings: administrators change password, lockout and session policy at run time

Revision ID: e5f9b2c3d4a7
Revises: d4e8a1b2c3f6
Create Date: 2026-11-26 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e5f9b2c3d4a7'
down_revision = 'd4e8a1b2c3f6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('security_settings',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_security_settings'))
    )


def downgrade() -> None:
    op.drop_table('security_settings')
