"""observatory: index the recognition units of a territory itself (the key of cached figures counts them)

Revision ID: i14_recognition_territory
Revises: i17_personal_issuers
Create Date: 2026-12-07 15:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i14_recognition_territory'
down_revision = 'i17_personal_issuers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_stats_recognition_units_territory_id'), 'stats_recognition_units', ['territory_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_stats_recognition_units_territory_id'), table_name='stats_recognition_units')
