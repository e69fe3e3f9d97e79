"""history: past trips and visits imported from spreadsheets

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

A historical record has no state, letters or claims; natural_key keeps a row imported twice
(from one file or two) one record.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('history_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=True),
    sa.Column('mapping', sa.JSON(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.CheckConstraint("kind IN ('trip', 'visit')", name=op.f('ck_history_imports_kind')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_history_imports_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_history_imports'))
    )
    op.create_table('historical_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('natural_key', sa.String(length=64), nullable=False),
    sa.Column('person_name', sa.String(length=200), nullable=False),
    sa.Column('person_key', sa.String(length=200), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=True),
    sa.Column('event_name', sa.String(length=300), nullable=True),
    sa.Column('event_key', sa.String(length=64), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('country', sa.String(length=100), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('colleagues_reached', sa.Integer(), nullable=True),
    sa.Column('patients_consulted', sa.Integer(), nullable=True),
    sa.Column('doctors_trained', sa.Integer(), nullable=True),
    sa.Column('operations_performed', sa.Integer(), nullable=True),
    sa.Column('spent_registration', sa.BigInteger(), nullable=True),
    sa.Column('spent_travel', sa.BigInteger(), nullable=True),
    sa.Column('spent_accommodation', sa.BigInteger(), nullable=True),
    sa.Column('spent_visa', sa.BigInteger(), nullable=True),
    sa.Column('spent_other', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('trip', 'visit')", name=op.f('ck_historical_records_kind')),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_historical_records_dates')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_historical_records_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['import_id'], ['history_imports.id'], name=op.f('fk_historical_records_import_id_history_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_historical_records')),
    sa.UniqueConstraint('natural_key', name=op.f('uq_historical_records_natural_key'))
    )
    with op.batch_alter_table('historical_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_historical_records_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_historical_records_import_id'), ['import_id'], unique=False)
        batch_op.create_index('ix_historical_records_kind_starts_on', ['kind', 'starts_on'], unique=False)



def downgrade():
    with op.batch_alter_table('historical_records', schema=None) as batch_op:
        batch_op.drop_index('ix_historical_records_kind_starts_on')
        batch_op.drop_index(batch_op.f('ix_historical_records_import_id'))
        batch_op.drop_index(batch_op.f('ix_historical_records_clinic_id'))

    op.drop_table('historical_records')
    op.drop_table('history_imports')
