"""activities' Russian titles, for the Russian half of the invitation letter

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('visit_activities', sa.Column('title_ru', sa.String(length=300), nullable=True))


def downgrade():
    op.execute("ALTER TABLE visit_activities DROP COLUMN title_ru")
