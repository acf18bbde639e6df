"""Recognition requests, their evidence and conversation

Revision ID: i17_requests
Revises: i17_endorsements
Create Date: 2026-12-07 12:24:20

"""
from alembic import op
import sqlalchemy as sa

import badgehub.db


# revision identifiers, used by Alembic.
revision = 'i17_requests'
down_revision = 'i17_endorsements'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('recognition_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=12), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'more_asked', 'accepted', 'declined', 'withdrawn', name='requeststatus', native_enum=False, length=16), nullable=False),
    sa.Column('self_declared', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('decided_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_credential_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_recognition_requests_achievement_id_achievements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_recognition_requests_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issued_credential_id'], ['issued_credentials.id'], name=op.f('fk_recognition_requests_issued_credential_id_issued_credentials'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_recognition_requests_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_recognition_requests_requester_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_requests')),
    sa.UniqueConstraint('public_id', name=op.f('uq_recognition_requests_public_id'))
    )
    with op.batch_alter_table('recognition_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recognition_requests_achievement_id'), ['achievement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recognition_requests_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recognition_requests_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recognition_requests_status'), ['status'], unique=False)

    op.create_table('recognition_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('submitted', 'more_asked', 'answered', 'accepted', 'declined', 'withdrawn', name='eventkind', native_enum=False, length=16), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_recognition_events_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['recognition_requests.id'], name=op.f('fk_recognition_events_request_id_recognition_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_events'))
    )
    with op.batch_alter_table('recognition_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recognition_events_request_id'), ['request_id'], unique=False)

    op.create_table('recognition_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=12), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('link', 'file', name='evidencekind', native_enum=False, length=8), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('filename', sa.String(length=120), nullable=True),
    sa.Column('media_type', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('added_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['recognition_requests.id'], name=op.f('fk_recognition_evidence_request_id_recognition_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_evidence')),
    sa.UniqueConstraint('public_id', name=op.f('uq_recognition_evidence_public_id'))
    )
    with op.batch_alter_table('recognition_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recognition_evidence_request_id'), ['request_id'], unique=False)



def downgrade():
    with op.batch_alter_table('recognition_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recognition_evidence_request_id'))

    op.drop_table('recognition_evidence')
    with op.batch_alter_table('recognition_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recognition_events_request_id'))

    op.drop_table('recognition_events')
    with op.batch_alter_table('recognition_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recognition_requests_status'))
        batch_op.drop_index(batch_op.f('ix_recognition_requests_requester_id'))
        batch_op.drop_index(batch_op.f('ix_recognition_requests_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_recognition_requests_achievement_id'))

    op.drop_table('recognition_requests')
