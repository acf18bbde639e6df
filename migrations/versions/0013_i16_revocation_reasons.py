"""revocation: a public reason from a short list, and the issuer's words as a private note

Until now the reason typed by the issuer was shown in full on the credential's public page (names included).
The text moves to ``revocation_note``, never published; ``revocation_reason`` becomes the public reason from
the list, set to "other" for credentials revoked before.

Revision ID: i16_revocation
Revises: i16_keep_links
Create Date: 2026-12-07 06:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i16_revocation'
down_revision = 'i16_keep_links'
branch_labels = None
depends_on = None

REASONS = ('error', 'fraud', 'learner_request', 'other')


def upgrade():
    with op.batch_alter_table('issued_credentials', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revocation_note', sa.Text(), nullable=True))
    op.execute("UPDATE issued_credentials SET revocation_note = revocation_reason, "
               "revocation_reason = CASE WHEN revoked_at IS NULL THEN NULL ELSE 'other' END")
    with op.batch_alter_table('issued_credentials', schema=None) as batch_op:
        batch_op.alter_column('revocation_reason', existing_type=sa.Text(),
                              type_=sa.Enum(*REASONS, name='revocationreason', native_enum=False, length=32),
                              existing_nullable=True)


def downgrade():
    with op.batch_alter_table('issued_credentials', schema=None) as batch_op:
        batch_op.alter_column('revocation_reason',
                              existing_type=sa.Enum(*REASONS, name='revocationreason', native_enum=False, length=32),
                              type_=sa.Text(), existing_nullable=True)
    op.execute("UPDATE issued_credentials SET revocation_reason = revocation_note WHERE revoked_at IS NOT NULL")
    with op.batch_alter_table('issued_credentials', schema=None) as batch_op:
        batch_op.drop_column('revocation_note')
