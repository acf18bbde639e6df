"""territory themes, catalogue and skills demand

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 05:40:00

"""
from alembic import op
import sqlalchemy as sa

import badgehub.db


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('themes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('unesco', 'local', name='themekind', native_enum=False, length=16), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_themes_territory_id_territories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_themes')),
    sa.UniqueConstraint('territory_id', 'code', name=op.f('uq_themes_territory_id_code'))
    )
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_themes_territory_id'), ['territory_id'], unique=False)

    op.create_table('achievement_themes',
    sa.Column('achievement_id', sa.Integer(), nullable=False),
    sa.Column('theme_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_achievement_themes_achievement_id_achievements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['theme_id'], ['themes.id'], name=op.f('fk_achievement_themes_theme_id_themes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('achievement_id', 'theme_id', name=op.f('pk_achievement_themes'))
    )
    with op.batch_alter_table('achievement_themes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_achievement_themes_theme_id'), ['theme_id'], unique=False)

    op.create_table('competency_demands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('competency_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['competency_id'], ['competencies.id'], name=op.f('fk_competency_demands_competency_id_competencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_competency_demands_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competency_demands')),
    sa.UniqueConstraint('organisation_id', 'competency_id', name=op.f('uq_competency_demands_organisation_id_competency_id'))
    )
    with op.batch_alter_table('competency_demands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competency_demands_competency_id'), ['competency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_competency_demands_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('catalogue_texts',
    sa.Column('achievement_version_id', sa.Integer(), nullable=False),
    sa.Column('folded', sa.Text(), nullable=False),
    sa.Column('name_key', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['achievement_version_id'], ['achievement_versions.id'], name=op.f('fk_catalogue_texts_achievement_version_id_achievement_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('achievement_version_id', name=op.f('pk_catalogue_texts'))
    )
    _fill_catalogue_texts()


def _fill_catalogue_texts():
    """Fold the searchable text of the versions that exist (later ones are kept by the model's events)."""
    from badgehub.catalogue.models import catalogue_text_values

    connection = op.get_bind()
    versions = sa.table('achievement_versions', sa.column('id', sa.Integer()), sa.column('name', sa.String()),
                        sa.column('description', sa.Text()), sa.column('criteria_md', sa.Text()),
                        sa.column('tags', sa.JSON()))
    texts = sa.table('catalogue_texts', sa.column('achievement_version_id', sa.Integer()),
                     sa.column('folded', sa.Text()), sa.column('name_key', sa.Text()))
    rows = [{'achievement_version_id': row.id,
             **catalogue_text_values(row.name, row.description, row.criteria_md, row.tags)}
            for row in connection.execute(sa.select(versions))]
    if rows:
        connection.execute(sa.insert(texts), rows)


def downgrade():
    op.drop_table('catalogue_texts')
    with op.batch_alter_table('competency_demands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competency_demands_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_competency_demands_competency_id'))

    op.drop_table('competency_demands')
    with op.batch_alter_table('achievement_themes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_achievement_themes_theme_id'))

    op.drop_table('achievement_themes')
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_themes_territory_id'))

    op.drop_table('themes')
