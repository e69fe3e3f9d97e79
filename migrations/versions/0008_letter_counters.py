"""a counter row per year for letter numbers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

letters = sa.table('letters', sa.column('year', sa.Integer), sa.column('sequence', sa.Integer))


def upgrade():
    counters = op.create_table(
        'letter_counters',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_sequence', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_letter_counters')),
    )
    # Numbering goes on from the letters already issued in each year.
    taken = op.get_bind().execute(
        sa.select(letters.c.year, sa.func.max(letters.c.sequence)).group_by(letters.c.year)).all()
    if taken:
        op.bulk_insert(counters, [{'year': year, 'last_sequence': last} for year, last in taken])


def downgrade():
    op.drop_table('letter_counters')
