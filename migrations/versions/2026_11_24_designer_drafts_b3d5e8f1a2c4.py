"""designer drafts: process and form working copies

Revision ID: b3d5e8f1a2c4
Revises: 5b1f0c7e2a91
Create Date: 2026-11-24 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'b3d5e8f1a2c4'
down_revision = '5b1f0c7e2a91'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('designer_form_drafts',
    sa.Column('form_key', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('schema', sa.JSON(), nullable=False),
    sa.Column('ui', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('form_key', name=op.f('pk_designer_form_drafts'))
    )
    op.create_table('designer_process_drafts',
    sa.Column('process_key', sa.String(length=100), nullable=False),
    sa.Column('xml', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('process_key', name=op.f('pk_designer_process_drafts'))
    )


def downgrade() -> None:
    op.drop_table('designer_process_drafts')
    op.drop_table('designer_form_drafts')
