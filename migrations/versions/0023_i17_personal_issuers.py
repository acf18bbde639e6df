"""Personal issuers: a person endorses in their own name

Revision ID: i17_personal_issuers
Revises: i14_recognition
Create Date: 2026-12-07 13:30:00

"""
from alembic import op
import sqlalchemy as sa

import badgehub.db


# revision identifiers, used by Alembic.
revision = 'i17_personal_issuers'
down_revision = 'i14_recognition'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('personal_issuers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_personal_issuers_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_personal_issuers_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_issuers')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_personal_issuers_organisation_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_personal_issuers_user_id'))
    )


def downgrade():
    op.drop_table('personal_issuers')
