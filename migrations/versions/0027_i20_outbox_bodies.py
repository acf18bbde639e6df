"""mail outbox: the message bytes in a table of their own, stored uncompressed on PostgreSQL

Revision ID: i20_outbox_bodies
Revises: i14_learner_years
Create Date: 2026-12-07 23:00:00

An award e-mail is about 120 KB, mostly base64 of PNG images (the baked badge, the QR code). Claiming a message
and marking it sent update its row, and SQLite rewrites a row whole: the bytes move to mail_outbox_bodies, which
nothing updates. On PostgreSQL they are kept out of line uncompressed (STORAGE EXTERNAL, available everywhere,
unlike lz4): pglz tried hard and failed to compress them, a third of a CSV chunk's insert time.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i20_outbox_bodies'
down_revision = 'i14_learner_years'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_outbox_bodies',
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['mail_outbox.id'], name=op.f('fk_mail_outbox_bodies_outbox_id_mail_outbox'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('outbox_id', name=op.f('pk_mail_outbox_bodies'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE mail_outbox_bodies ALTER COLUMN raw SET STORAGE EXTERNAL")
    op.execute("INSERT INTO mail_outbox_bodies (outbox_id, raw) SELECT id, message FROM mail_outbox")
    # A plain DROP COLUMN (SQLite 3.35+ and PostgreSQL), not a batch copy of the table: dropping the old table
    # of a copy would delete the bodies just written, by the cascade of their foreign key.
    op.execute("ALTER TABLE mail_outbox DROP COLUMN message")


def downgrade():
    op.execute("ALTER TABLE mail_outbox ADD COLUMN message BYTEA" if op.get_bind().dialect.name == "postgresql"
               else "ALTER TABLE mail_outbox ADD COLUMN message BLOB")
    op.execute("UPDATE mail_outbox SET message = (SELECT raw FROM mail_outbox_bodies "
               "WHERE mail_outbox_bodies.outbox_id = mail_outbox.id)")
    op.drop_table('mail_outbox_bodies')
    with op.batch_alter_table('mail_outbox') as batch_op:
        batch_op.alter_column('message', existing_type=sa.LargeBinary(), nullable=False)
