"""claim campaigns and claims

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 05:40:00

"""
from alembic import op
import sqlalchemy as sa

import badgehub.db


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('claim_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('short_code', sa.String(length=16), nullable=False),
    sa.Column('opens_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('closes_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('max_claims', sa.Integer(), nullable=True),
    sa.Column('claimed_count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('closed_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_claim_campaigns_achievement_id_achievements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_claim_campaigns_closed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_claim_campaigns_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_claim_campaigns_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_campaigns')),
    sa.UniqueConstraint('short_code', name=op.f('uq_claim_campaigns_short_code'))
    )
    with op.batch_alter_table('claim_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_campaigns_achievement_id'), ['achievement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_campaigns_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('email_key', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('state', sa.Enum('pending', 'confirmed', name='claimstate', native_enum=False, length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_expires_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('requested_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('link_sent_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('confirmed_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('credential_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['claim_campaigns.id'], name=op.f('fk_claims_campaign_id_claim_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['credential_id'], ['issued_credentials.id'], name=op.f('fk_claims_credential_id_issued_credentials'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims')),
    sa.UniqueConstraint('campaign_id', 'email_key', name=op.f('uq_claims_campaign_id_email_key')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_claims_token_hash'))
    )


def downgrade():
    op.drop_table('claims')
    with op.batch_alter_table('claim_campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_campaigns_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_claim_campaigns_achievement_id'))

    op.drop_table('claim_campaigns')
