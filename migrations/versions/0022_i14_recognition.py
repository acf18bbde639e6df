"""observatory: counted units of recognition (endorsements, requests, pathway completions) and their cells

Revision ID: i14_recognition
Revises: i17_pathways
Create Date: 2026-12-07 12:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_recognition'
down_revision = 'i17_pathways'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stats_recognition_units',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=64), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('detail', sa.String(length=16), nullable=False),
    sa.Column('flag', sa.Boolean(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('record_key', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'unit', name=op.f('pk_stats_recognition_units'))
    )
    op.create_table('stats_recognition_cells',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('detail', sa.String(length=16), nullable=False),
    sa.Column('flag', sa.Boolean(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('key_sum', sa.Integer(), nullable=False),
    sa.Column('learner_ids', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'month', 'organisation_id', 'other_id', 'territory_id', 'detail', 'flag',
                            name=op.f('pk_stats_recognition_cells'))
    )


def downgrade():
    op.drop_table('stats_recognition_cells')
    op.drop_table('stats_recognition_units')
