"""jobs: long work in the background, with progress; a thanks batch knows its job

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
from contextlib import contextmanager

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
    with _batch_links_kept(), op.batch_alter_table('acknowledgement_batches') as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_acknowledgement_batches_job_id_jobs'), 'jobs', ['job_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with _batch_links_kept(), op.batch_alter_table('acknowledgement_batches') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_acknowledgement_batches_job_id_jobs'), type_='foreignkey')
        batch_op.drop_column('job_id')
    op.drop_index('ix_jobs_state_updated_at', table_name='jobs')
    op.drop_table('jobs')


@contextmanager
def _batch_links_kept():
    """Put back each thank-you's batch after SQLite rebuilds acknowledgement_batches (to add or
    drop a foreign key): dropping the old table deletes its rows first, and ON DELETE SET NULL
    emptied every acknowledgements.batch_id, upgrading and downgrading alike."""
    conn = op.get_bind()
    kept = conn.execute(sa.text("SELECT id, batch_id FROM acknowledgements WHERE batch_id IS NOT NULL")).all() \
        if conn.dialect.name == 'sqlite' else []
    yield
    if kept:
        conn.execute(sa.text("UPDATE acknowledgements SET batch_id = :batch_id WHERE id = :id"),
                     [{'id': row.id, 'batch_id': row.batch_id} for row in kept])
