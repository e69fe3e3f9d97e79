"""jobs: long work in the background, with progress; a thanks batch knows its job

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('task', sa.String(length=64), nullable=False),
        sa.Column('running_key', sa.String(length=64), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('started_by_id', sa.Integer(), nullable=True),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('worker', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_jobs_started_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
        sa.UniqueConstraint('running_key', name=op.f('uq_jobs_running_key')),
    )
    op.create_index('ix_jobs_state_updated_at', 'jobs', ['state', 'updated_at'])
    with op.batch_alter_table('acknowledgement_batches') as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_acknowledgement_batches_job_id_jobs'), 'jobs', ['job_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('acknowledgement_batches') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_acknowledgement_batches_job_id_jobs'), type_='foreignkey')
        batch_op.drop_column('job_id')
    op.drop_index('ix_jobs_state_updated_at', table_name='jobs')
    op.drop_table('jobs')
