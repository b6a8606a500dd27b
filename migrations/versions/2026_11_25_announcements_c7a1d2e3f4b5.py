"""portal announcements

Revision ID: c7a1d2e3f4b5
Revises: b3d5e8f1a2c4
Create Date: 2026-11-25 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'c7a1d2e3f4b5'
down_revision = 'b3d5e8f1a2c4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('announcements',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('institution', sa.String(length=100), nullable=False),
    sa.Column('audience_departments', sa.JSON(), nullable=False),
    sa.Column('audience_roles', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcements'))
    )
    op.create_index('ix_announcements_published', 'announcements', ['published_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_announcements_published', table_name='announcements')
    op.drop_table('announcements')
