"""at most one valid letter per kind and subject

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

"""
import datetime as dt
from itertools import groupby

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

letters = sa.table('letters', sa.column('id', sa.Integer), sa.column('reference', sa.String),
                   sa.column('kind', sa.String), sa.column('subject_type', sa.String),
                   sa.column('subject_id', sa.Integer), sa.column('status', sa.String),
                   sa.column('superseded_by_id', sa.Integer))
audit_events = sa.table('audit_events', sa.column('occurred_at', sa.DateTime), sa.column('action', sa.String),
                        sa.column('subject_type', sa.String), sa.column('subject_id', sa.Integer),
                        sa.column('from_state', sa.String), sa.column('to_state', sa.String),
                        sa.column('note', sa.Text), sa.column('details', sa.JSON))


def _supersede_duplicates():
    """Requests racing each other once issued several valid letters for one subject: the
    newest stands, the others are superseded by it (with an audit entry each), so the
    index below can be built."""
    conn = op.get_bind()
    valid = conn.execute(
        sa.select(letters.c.id, letters.c.reference, letters.c.kind, letters.c.subject_type, letters.c.subject_id)
        .where(letters.c.status == 'valid')
        .order_by(letters.c.kind, letters.c.subject_type, letters.c.subject_id, letters.c.id.desc())).all()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # stored naive UTC, as UTCDateTime does
    for _subject, rows in groupby(valid, key=lambda row: (row.kind, row.subject_type, row.subject_id)):
        newest, *older = rows
        for row in older:
            conn.execute(letters.update().where(letters.c.id == row.id)
                         .values(status='superseded', superseded_by_id=newest.id))
            conn.execute(audit_events.insert().values(
                occurred_at=now, action='letter_superseded', subject_type='letters', subject_id=row.id,
                from_state='valid', to_state='superseded', note='Repaired by migration 0007.',
                details={'by': newest.reference}))


def upgrade():
    _supersede_duplicates()
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.create_index('uq_letters_one_valid', ['kind', 'subject_type', 'subject_id'], unique=True,
                              sqlite_where=sa.text("status = 'valid'"),
                              postgresql_where=sa.text("status = 'valid'"))


def downgrade():
    # The repaired letters stay superseded: each had a newer valid letter.
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.drop_index('uq_letters_one_valid')
