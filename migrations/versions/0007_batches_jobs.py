"""issuing batches (CSV) and background jobs

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 05:40:00

"""
from alembic import op
import sqlalchemy as sa

import badgehub.db


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('issue_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('encoding', sa.String(length=32), nullable=False),
    sa.Column('delimiter', sa.String(length=8), nullable=False),
    sa.Column('state', sa.Enum('draft', 'queued', 'running', 'done', 'failed', 'cancelled', name='batchstate', native_enum=False, length=16), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('valid_rows', sa.Integer(), nullable=False),
    sa.Column('issued_count', sa.Integer(), nullable=False),
    sa.Column('duplicate_count', sa.Integer(), nullable=False),
    sa.Column('invalid_count', sa.Integer(), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('mail_failures', sa.Integer(), nullable=False),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('queued_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('started_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('finished_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_issue_batches_achievement_id_achievements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_issue_batches_confirmed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_issue_batches_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_issue_batches_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_batches'))
    )
    with op.batch_alter_table('issue_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_batches_achievement_id'), ['achievement_id'], unique=False)
        batch_op.create_index('ix_issue_batches_organisation_created', ['organisation_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_issue_batches_state'), ['state'], unique=False)

    op.create_table('issue_batch_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('recipient_email', sa.String(length=254), nullable=False),
    sa.Column('recipient_email_key', sa.String(length=254), nullable=False),
    sa.Column('recipient_name', sa.String(length=200), nullable=False),
    sa.Column('activity_start', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('activity_end', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('evidence_url', sa.String(length=500), nullable=True),
    sa.Column('narrative', sa.Text(), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.String(length=500), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('state', sa.Enum('pending', 'issued', 'skipped_invalid', 'duplicate_previous', 'failed', name='rowstate', native_enum=False, length=24), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=True),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('mailed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_issue_batch_rows_area_id_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['batch_id'], ['issue_batches.id'], name=op.f('fk_issue_batch_rows_batch_id_issue_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['credential_id'], ['issued_credentials.id'], name=op.f('fk_issue_batch_rows_credential_id_issued_credentials'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_batch_rows')),
    sa.UniqueConstraint('batch_id', 'number', name=op.f('uq_issue_batch_rows_batch_id_number'))
    )
    with op.batch_alter_table('issue_batch_rows', schema=None) as batch_op:
        batch_op.create_index('ix_issue_batch_rows_batch_state', ['batch_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_issue_batch_rows_recipient_email_key'), ['recipient_email_key'], unique=False)

    # Credentials issued by a batch point to it (the column exists since 0006, without a foreign key).
    with op.batch_alter_table('issued_credentials', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_issued_credentials_batch_id_issue_batches'), 'issue_batches',
                                    ['batch_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('issued_credentials', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_issued_credentials_batch_id_issue_batches'), type_='foreignkey')

    with op.batch_alter_table('issue_batch_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_batch_rows_recipient_email_key'))
        batch_op.drop_index('ix_issue_batch_rows_batch_state')

    op.drop_table('issue_batch_rows')
    with op.batch_alter_table('issue_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_batches_state'))
        batch_op.drop_index('ix_issue_batches_organisation_created')
        batch_op.drop_index(batch_op.f('ix_issue_batches_achievement_id'))

    op.drop_table('issue_batches')
