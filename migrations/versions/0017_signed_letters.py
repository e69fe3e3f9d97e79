"""signed letters: the certificates that signed them, each letter's check code, letters found by SHA-256

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01

Only columns are added to letters: no table is rebuilt (see 0013). Letters issued before carry
no check code and no certificate: they were not signed.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signing_certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('not_before', sa.DateTime(), nullable=False),
    sa.Column('not_after', sa.DateTime(), nullable=False),
    sa.Column('der', sa.LargeBinary(), nullable=False),
    sa.Column('first_used_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_certificates')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_signing_certificates_fingerprint'))
    )
    op.add_column('letters', sa.Column('check_code', sa.String(length=8), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':  # a column's REFERENCES is the one constraint SQLite adds in place
        op.execute("ALTER TABLE letters ADD COLUMN certificate_id INTEGER REFERENCES signing_certificates (id)")
    else:
        op.add_column('letters', sa.Column(
            'certificate_id', sa.Integer(),
            sa.ForeignKey('signing_certificates.id', name=op.f('fk_letters_certificate_id_signing_certificates')),
            nullable=True))
    op.create_index(op.f('ix_letters_certificate_id'), 'letters', ['certificate_id'], unique=False)
    op.create_index(op.f('ix_letters_sha256'), 'letters', ['sha256'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_letters_sha256'), table_name='letters')
    op.drop_index(op.f('ix_letters_certificate_id'), table_name='letters')
    op.execute("ALTER TABLE letters DROP COLUMN certificate_id")
    op.execute("ALTER TABLE letters DROP COLUMN check_code")
    op.drop_table('signing_certificates')
