"""indexes for fifteen years of history: budget figures, shared receipts, conference dates

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Chosen from the query plans of the staff pages on the 100k bench database (SQLite's
EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN ANALYZE): without them the budget read every paid
line, the claims queue every receipt, the queue filters every conference.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_expense_lines_status_spent_on', 'expense_lines', ['status', 'spent_on'])
    op.create_index('ix_funded_items_kind_status_created_at', 'funded_items', ['kind', 'status', 'created_at'])
    op.create_index('ix_stored_files_sha256', 'stored_files', ['sha256'])
    op.create_index('ix_conferences_start_date', 'conferences', ['start_date'])


def downgrade():
    op.drop_index('ix_conferences_start_date', table_name='conferences')
    op.drop_index('ix_stored_files_sha256', table_name='stored_files')
    op.drop_index('ix_funded_items_kind_status_created_at', table_name='funded_items')
    op.drop_index('ix_expense_lines_status_spent_on', table_name='expense_lines')
