"""Pathways, their groups and steps, and completions

Revision ID: i17_pathways
Revises: i14_area_months
Create Date: 2026-12-07 12:50:00

"""
from alembic import op
import sqlalchemy as sa

import badgehub.db


# revision identifiers, used by Alembic.
revision = 'i17_pathways'
down_revision = 'i14_area_months'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pathways',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=12), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('in_language', sa.String(length=16), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=True),
    sa.Column('qualification_uri', sa.String(length=500), nullable=True),
    sa.Column('qualification_name', sa.String(length=200), nullable=False),
    sa.Column('job_profile', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'archived', name='pathwaystatus', native_enum=False, length=16), nullable=False),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('published_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_pathways_achievement_id_achievements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_pathways_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_pathways_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_pathways_territory_id_territories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pathways')),
    sa.UniqueConstraint('public_id', name=op.f('uq_pathways_public_id'))
    )
    with op.batch_alter_table('pathways', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pathways_achievement_id'), ['achievement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pathways_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pathways_territory_id'), ['territory_id'], unique=False)

    op.create_table('pathway_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pathway_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('ordered', sa.Boolean(), nullable=False),
    sa.Column('min_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pathway_id'], ['pathways.id'], name=op.f('fk_pathway_groups_pathway_id_pathways'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pathway_groups'))
    )
    with op.batch_alter_table('pathway_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pathway_groups_pathway_id'), ['pathway_id'], unique=False)

    op.create_table('pathway_completions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pathway_id', sa.Integer(), nullable=False),
    sa.Column('holder_digest', sa.String(length=64), nullable=False),
    sa.Column('completed_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('issued_credential_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['issued_credential_id'], ['issued_credentials.id'], name=op.f('fk_pathway_completions_issued_credential_id_issued_credentials'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pathway_id'], ['pathways.id'], name=op.f('fk_pathway_completions_pathway_id_pathways'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pathway_completions')),
    sa.UniqueConstraint('pathway_id', 'holder_digest', name=op.f('uq_pathway_completions_pathway_id_holder_digest'))
    )
    with op.batch_alter_table('pathway_completions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pathway_completions_holder_digest'), ['holder_digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_pathway_completions_pathway_id'), ['pathway_id'], unique=False)

    op.create_table('pathway_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_pathway_steps_achievement_id_achievements')),
    sa.ForeignKeyConstraint(['group_id'], ['pathway_groups.id'], name=op.f('fk_pathway_steps_group_id_pathway_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pathway_steps')),
    sa.UniqueConstraint('group_id', 'achievement_id', name=op.f('uq_pathway_steps_group_id_achievement_id'))
    )
    with op.batch_alter_table('pathway_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pathway_steps_achievement_id'), ['achievement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pathway_steps_group_id'), ['group_id'], unique=False)



def downgrade():
    with op.batch_alter_table('pathway_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pathway_steps_group_id'))
        batch_op.drop_index(batch_op.f('ix_pathway_steps_achievement_id'))

    op.drop_table('pathway_steps')
    with op.batch_alter_table('pathway_completions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pathway_completions_pathway_id'))
        batch_op.drop_index(batch_op.f('ix_pathway_completions_holder_digest'))

    op.drop_table('pathway_completions')
    with op.batch_alter_table('pathway_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pathway_groups_pathway_id'))

    op.drop_table('pathway_groups')
    with op.batch_alter_table('pathways', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pathways_territory_id'))
        batch_op.drop_index(batch_op.f('ix_pathways_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_pathways_achievement_id'))

    op.drop_table('pathways')
