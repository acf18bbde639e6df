"""observatory: learner sets per organisation, month and badge version

Revision ID: i14_version_sets
Revises: i14_learner_keys
Create Date: 2026-12-07 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_version_sets'
down_revision = 'i14_learner_keys'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stats_version_learner_sets',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('achievement_version_id', sa.Integer(), nullable=False),
    sa.Column('learner_ids', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['achievement_version_id'], ['achievement_versions.id'], name=op.f('fk_stats_version_learner_sets_achievement_version_id_achievement_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_stats_version_learner_sets_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'month', 'achievement_version_id', name=op.f('pk_stats_version_learner_sets'))
    )
    with op.batch_alter_table('stats_version_learner_sets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stats_version_learner_sets_achievement_version_id'), ['achievement_version_id'], unique=False)
    # Backfill from the live credentials and the learners counted so far (every live credential's learner has
    # a row in stats_learners: the per-month sets were built from the same credentials).
    from pyroaring import BitMap

    bind = op.get_bind()
    month = ("CAST(strftime('%Y%m', c.issued_at) AS INTEGER)" if bind.dialect.name == "sqlite"
             else "CAST(EXTRACT(YEAR FROM c.issued_at) * 100 + EXTRACT(MONTH FROM c.issued_at) AS INTEGER)")
    erased = "erased:"  # badgehub.issuing.models.ERASED_RECIPIENT_PREFIX, written out
    import hashlib

    ids = dict(bind.execute(sa.text("SELECT key_hash, id FROM stats_learners")).tuples().all())
    sets = {}
    for organisation_id, number, version_id, key in bind.execute(sa.text(
            f"SELECT DISTINCT c.organisation_id, {month}, c.achievement_version_id, c.recipient_email_key "
            "FROM issued_credentials c WHERE c.revoked_at IS NULL")).tuples():
        learner = erased if key.startswith(erased) else key
        identifier = ids.get(hashlib.sha256(learner.encode("utf-8")).hexdigest())
        if identifier is not None:
            sets.setdefault((organisation_id, number, version_id), BitMap()).add(identifier)
    table = sa.table('stats_version_learner_sets', sa.column('organisation_id', sa.Integer()),
                     sa.column('month', sa.Integer()), sa.column('achievement_version_id', sa.Integer()),
                     sa.column('learner_ids', sa.LargeBinary()))
    rows = [{"organisation_id": o, "month": m, "achievement_version_id": v, "learner_ids": learners.serialize()}
            for (o, m, v), learners in sets.items()]
    for start in range(0, len(rows), 5_000):
        op.bulk_insert(table, rows[start:start + 5_000])


def downgrade():
    with op.batch_alter_table('stats_version_learner_sets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stats_version_learner_sets_achievement_version_id'))
    op.drop_table('stats_version_learner_sets')
