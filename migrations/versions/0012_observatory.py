"""observatory pre-aggregates

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 05:40:00

"""
from alembic import op
import sqlalchemy as sa

import badgehub.db


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stats_cells',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('achievement_version_id', sa.Integer(), nullable=False),
    sa.Column('credentials', sa.Integer(), nullable=False),
    sa.Column('learners', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['achievement_version_id'], ['achievement_versions.id'], name=op.f('fk_stats_cells_achievement_version_id_achievement_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_stats_cells_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'month', 'achievement_version_id', name=op.f('pk_stats_cells'))
    )
    with op.batch_alter_table('stats_cells', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stats_cells_achievement_version_id'), ['achievement_version_id'], unique=False)

    op.create_table('stats_area_cells',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('achievement_version_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('credentials', sa.Integer(), nullable=False),
    sa.Column('learners', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['achievement_version_id'], ['achievement_versions.id'], name=op.f('fk_stats_area_cells_achievement_version_id_achievement_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_stats_area_cells_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'month', 'achievement_version_id', 'area_id', name=op.f('pk_stats_area_cells'))
    )
    with op.batch_alter_table('stats_area_cells', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stats_area_cells_achievement_version_id'), ['achievement_version_id'], unique=False)

    op.create_table('stats_organisations',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_stats_organisations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_stats_organisations'))
    )
    op.create_table('observatory_settings',
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('licence', sa.String(length=200), nullable=False),
    sa.Column('licence_url', sa.String(length=500), nullable=False),
    sa.Column('updated_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_observatory_settings_territory_id_territories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('territory_id', name=op.f('pk_observatory_settings'))
    )
    op.create_table('stats_learners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_learners')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_stats_learners_key_hash'))
    )
    op.create_table('stats_learner_sets',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('learner_ids', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_stats_learner_sets_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'month', name=op.f('pk_stats_learner_sets'))
    )
    # Credentials issued before this revision are counted once here; from now on issuing keeps the counts.
    month = ("CAST(strftime('%Y%m', issued_at) AS INTEGER)" if op.get_bind().dialect.name == "sqlite"
             else "CAST(EXTRACT(YEAR FROM issued_at) * 100 + EXTRACT(MONTH FROM issued_at) AS INTEGER)")
    # Erased recipients ("erased:<id>", see badgehub.stats.service.ERASED_PREFIX) count as one learner.
    learner = "CASE WHEN recipient_email_key LIKE 'erased:%' THEN 'erased:' ELSE recipient_email_key END"
    op.execute(
        "INSERT INTO stats_cells (organisation_id, month, achievement_version_id, credentials, learners) "
        f"SELECT organisation_id, {month}, achievement_version_id, COUNT(*), COUNT(DISTINCT {learner}) "
        f"FROM issued_credentials WHERE revoked_at IS NULL GROUP BY organisation_id, {month}, achievement_version_id")
    op.execute(
        "INSERT INTO stats_area_cells (organisation_id, month, achievement_version_id, area_id, credentials, learners) "
        f"SELECT organisation_id, {month}, achievement_version_id, COALESCE(area_id, 0), COUNT(*), "
        f"COUNT(DISTINCT {learner}) FROM issued_credentials WHERE revoked_at IS NULL "
        f"GROUP BY organisation_id, {month}, achievement_version_id, COALESCE(area_id, 0)")


    # The learner sets (Roaring bitmaps of learner ids per organisation and month), as badgehub.stats.service
    # builds them, written out here so that the migration does not depend on the code of later revisions.
    import hashlib

    from pyroaring import BitMap

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        f"SELECT DISTINCT organisation_id, {month}, {learner} FROM issued_credentials WHERE revoked_at IS NULL"))
    sets, ids = {}, {}
    for organisation_id, number, key in rows:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        if digest not in ids:
            ids[digest] = len(ids) + 1
        sets.setdefault((organisation_id, number), BitMap()).add(ids[digest])
    if ids:
        op.bulk_insert(sa.table('stats_learners', sa.column('id', sa.Integer()), sa.column('key_hash', sa.String())),
                       [{"id": number, "key_hash": digest} for digest, number in ids.items()])
        if bind.dialect.name == "postgresql":
            op.execute("SELECT setval(pg_get_serial_sequence('stats_learners', 'id'), (SELECT MAX(id) FROM stats_learners))")
    if sets:
        op.bulk_insert(sa.table('stats_learner_sets', sa.column('organisation_id', sa.Integer()),
                                sa.column('month', sa.Integer()), sa.column('learner_ids', sa.LargeBinary())),
                       [{"organisation_id": o, "month": m, "learner_ids": bitmap.serialize()}
                        for (o, m), bitmap in sets.items()])


def downgrade():
    op.drop_table('stats_learner_sets')
    op.drop_table('stats_learners')
    op.drop_table('observatory_settings')
    op.drop_table('stats_organisations')
    with op.batch_alter_table('stats_area_cells', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stats_area_cells_achievement_version_id'))

    op.drop_table('stats_area_cells')
    with op.batch_alter_table('stats_cells', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stats_cells_achievement_version_id'))

    op.drop_table('stats_cells')
