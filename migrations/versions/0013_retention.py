"""retention: how long personal data is kept, what the purge removed, who read passport details

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

Letters lose their PDF and personal facts after the retention period (the reference, SHA-256,
public facts and status stay); import files lose their content (emptied, not NULL: no table is rebuilt); passport details leave the
profile. sensitive_reads logs every read of passport details.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sensitive_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('what', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reader_id'], ['users.id'], name=op.f('fk_sensitive_reads_reader_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subject_id'], ['users.id'], name=op.f('fk_sensitive_reads_subject_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sensitive_reads'))
    )
    for column in ('at', 'reader_id', 'subject_id'):
        op.create_index(op.f(f'ix_sensitive_reads_{column}'), 'sensitive_reads', [column], unique=False)
    # Only columns are added: no table is rebuilt (SQLite would drop tables that others refer to).
    for table in ('donation_imports', 'history_imports', 'letters'):
        op.add_column(table, sa.Column('purged_at', sa.DateTime(), nullable=True))
    for name, default in (('passport_retention_days', '90'), ('upload_retention_days', '30'),
                          ('receipt_retention_years', '6'), ('inactive_account_years', '3')):
        op.add_column('organisation_settings', sa.Column(name, sa.Integer(), server_default=default, nullable=False))
    op.add_column('users', sa.Column('passport_updated_at', sa.DateTime(), nullable=True))
    op.add_column('users', sa.Column('passport_purged_at', sa.DateTime(), nullable=True))
    # Details already held are kept a whole retention period from now, as if entered today.
    op.execute("UPDATE users SET passport_updated_at = CURRENT_TIMESTAMP WHERE passport_number IS NOT NULL "
               "OR date_of_birth IS NOT NULL OR passport_expiry IS NOT NULL")


def downgrade():
    # ALTER TABLE … DROP COLUMN (SQLite 3.35 and later): rebuilding users would touch the audit trail.
    drops = [('users', 'passport_purged_at'), ('users', 'passport_updated_at'),
             ('organisation_settings', 'inactive_account_years'), ('organisation_settings', 'receipt_retention_years'),
             ('organisation_settings', 'upload_retention_days'), ('organisation_settings', 'passport_retention_days'),
             ('letters', 'purged_at'), ('history_imports', 'purged_at'), ('donation_imports', 'purged_at')]
    for table, column in drops:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_table('sensitive_reads')
