"""data exports and erasure: a person's data as a ZIP for a day; erased people and donors

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('data_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('token', sa.String(length=43), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ready_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_data_exports_job_id_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_data_exports_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_exports')),
    sa.UniqueConstraint('token', name=op.f('uq_data_exports_token'))
    )
    with op.batch_alter_table('data_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_exports_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_exports_subject_id'), ['subject_id'], unique=False)

    op.add_column('donors', sa.Column('erased_at', sa.DateTime(), nullable=True))
    op.add_column('donors', sa.Column('erasure_due_on', sa.Date(), nullable=True))
    op.add_column('users', sa.Column('erased_at', sa.DateTime(), nullable=True))
    _audit_allows_only_a_pseudonym()


# An erasure replaces the name an audit entry was made under by the person's pseudonym; nothing
# else in the trail may ever change, and nothing may be deleted.
AUDIT_COLUMNS = ("id", "occurred_at", "actor_id", "action", "subject_type", "subject_id", "from_state",
                 "to_state", "note", "details")


def _audit_allows_only_a_pseudonym():
    if op.get_bind().dialect.name == "postgresql":
        same = " AND ".join(f"NEW.{c}::text IS NOT DISTINCT FROM OLD.{c}::text" for c in AUDIT_COLUMNS)
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$ BEGIN "
            f"IF TG_OP = 'UPDATE' AND NEW.actor_name LIKE 'Former % #%' AND {same} THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql")
    else:
        same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in AUDIT_COLUMNS)
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                   f"WHEN NOT (NEW.actor_name LIKE 'Former % #%' AND {same}) "
                   "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END")


def _audit_append_only_again():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$ "
                   "BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                   "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END")


def downgrade():
    _audit_append_only_again()
    for table, column in (('users', 'erased_at'), ('donors', 'erasure_due_on'), ('donors', 'erased_at')):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # no rebuild: see 0013
    op.drop_table('data_exports')
