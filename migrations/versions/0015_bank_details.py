"""bank details: where a claimant's repayments go (IBAN and BIC, or a UK sort code and account)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

The IBAN and the account number are encrypted like the passport number. Only columns are added:
no table is rebuilt (see 0013).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

COLUMNS = (('bank_holder', sa.String(length=200)), ('bank_iban', sa.Text()), ('bank_bic', sa.String(length=11)),
           ('bank_sort_code', sa.String(length=6)), ('bank_account_number', sa.Text()),
           ('bank_updated_at', sa.DateTime()))


def upgrade():
    for name, kind in COLUMNS:
        op.add_column('users', sa.Column(name, kind, nullable=True))


def downgrade():
    for name, _kind in reversed(COLUMNS):
        op.execute(f"ALTER TABLE users DROP COLUMN {name}")
