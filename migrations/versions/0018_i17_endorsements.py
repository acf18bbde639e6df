"""Endorsements made here, invitations to endorse a credential, and territory issuers

Revision ID: i17_endorsements
Revises: i14_org_keys
Create Date: 2026-12-07 09:40:00

"""
from alembic import op
import sqlalchemy as sa

import badgehub.db


# revision identifiers, used by Alembic.
revision = 'i17_endorsements'
down_revision = 'i14_org_keys'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('territory_issuers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_territory_issuers_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_territory_issuers_territory_id_territories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_territory_issuers')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_territory_issuers_organisation_id')),
    sa.UniqueConstraint('territory_id', name=op.f('uq_territory_issuers_territory_id'))
    )
    op.create_table('endorsement_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_credential_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('closed_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_endorsement_invitations_created_by_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_credential_id'], ['issued_credentials.id'], name=op.f('fk_endorsement_invitations_issued_credential_id_issued_credentials'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_endorsement_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_endorsement_invitations_token_hash'))
    )
    with op.batch_alter_table('endorsement_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_endorsement_invitations_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_endorsement_invitations_issued_credential_id'), ['issued_credential_id'], unique=False)

    op.create_table('endorsements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=12), nullable=False),
    sa.Column('credential_id', sa.String(length=64), nullable=False),
    sa.Column('endorser_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('achievement', 'profile', 'credential', name='endorsedkind', native_enum=False, length=16), nullable=False),
    sa.Column('subject_uri', sa.String(length=500), nullable=False),
    sa.Column('endorsed_organisation_id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=True),
    sa.Column('issued_credential_id', sa.Integer(), nullable=True),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('evidence_url', sa.String(length=500), nullable=True),
    sa.Column('document_json', sa.Text(), nullable=False),
    sa.Column('vc_jwt', sa.Text(), nullable=False),
    sa.Column('issued_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('display', sa.Enum('shown', 'declined', 'pending', name='display', native_enum=False, length=16), nullable=False),
    sa.Column('display_changed_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('status_list_id', sa.Integer(), nullable=False),
    sa.Column('status_index', sa.Integer(), nullable=False),
    sa.Column('withdrawn_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_endorsements_achievement_id_achievements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_endorsements_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['endorsed_organisation_id'], ['organisations.id'], name=op.f('fk_endorsements_endorsed_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['endorser_id'], ['organisations.id'], name=op.f('fk_endorsements_endorser_id_organisations')),
    sa.ForeignKeyConstraint(['invitation_id'], ['endorsement_invitations.id'], name=op.f('fk_endorsements_invitation_id_endorsement_invitations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issued_credential_id'], ['issued_credentials.id'], name=op.f('fk_endorsements_issued_credential_id_issued_credentials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_list_id'], ['status_lists.id'], name=op.f('fk_endorsements_status_list_id_status_lists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_endorsements')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_endorsements_credential_id')),
    sa.UniqueConstraint('public_id', name=op.f('uq_endorsements_public_id')),
    sa.UniqueConstraint('status_list_id', 'status_index', name=op.f('uq_endorsements_status_list_id_status_index'))
    )
    with op.batch_alter_table('endorsements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_endorsements_achievement_id'), ['achievement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_endorsements_endorsed_organisation_id'), ['endorsed_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_endorsements_endorser_id'), ['endorser_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_endorsements_issued_credential_id'), ['issued_credential_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_endorsements_status_list_id'), ['status_list_id'], unique=False)


def downgrade():
    with op.batch_alter_table('endorsements', schema=None) as batch_op:
        for name in ('status_list_id', 'issued_credential_id', 'endorser_id', 'endorsed_organisation_id',
                     'achievement_id'):
            batch_op.drop_index(batch_op.f(f'ix_endorsements_{name}'))
    op.drop_table('endorsements')
    with op.batch_alter_table('endorsement_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_endorsement_invitations_issued_credential_id'))
        batch_op.drop_index(batch_op.f('ix_endorsement_invitations_created_by_id'))
    op.drop_table('endorsement_invitations')
    op.drop_table('territory_issuers')
