"""mail outbox: the message bytes stored uncompressed out of line on PostgreSQL

Revision ID: i20_outbox_storage
Revises: i14_learner_years
Create Date: 2026-12-07 22:40:00

An award e-mail is mostly base64 of PNG images (the baked badge, the QR code), which pglz, PostgreSQL's default
TOAST compression, tries hard and fails to compress: a CSV batch's chunk of 50 e-mails took three times as
long to insert as uncompressed. EXTERNAL keeps the bytes out of line, uncompressed (available on every
PostgreSQL, unlike lz4). SQLite has no such setting.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i20_outbox_storage'
down_revision = 'i14_learner_years'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE mail_outbox ALTER COLUMN message SET STORAGE EXTERNAL")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE mail_outbox ALTER COLUMN message SET STORAGE EXTENDED")
