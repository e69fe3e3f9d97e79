"""gift aid claims: claims and their frozen lines, aggregated entries, refunds and the
adjustments they carry into the next claim; a gift's benefit, sponsored-event flag and refunds

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('gift_aid_aggregates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=35), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('gifts', sa.Integer(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('gifts > 0 AND total <= gifts * 2000', name=op.f('ck_gift_aid_aggregates_small_gifts')),
    sa.CheckConstraint('total > 0 AND total <= 100000', name=op.f('ck_gift_aid_aggregates_total_within_limit')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_gift_aid_aggregates_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gift_aid_aggregates'))
    )
    with op.batch_alter_table('gift_aid_aggregates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gift_aid_aggregates_received_on'), ['received_on'], unique=False)

    op.create_table('gift_aid_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('up_to', sa.Date(), nullable=False),
    sa.Column('lines_count', sa.Integer(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('gift_aid', sa.BigInteger(), nullable=False),
    sa.Column('adjustment', sa.BigInteger(), nullable=False),
    sa.Column('earliest_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('hmrc_reference', sa.String(length=40), nullable=True),
    sa.Column('submitted_on', sa.Date(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('amount_received', sa.BigInteger(), nullable=True),
    sa.Column('paid_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'paid')", name=op.f('ck_gift_aid_claims_known_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_gift_aid_claims_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['paid_by_id'], ['users.id'], name=op.f('fk_gift_aid_claims_paid_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_gift_aid_claims_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gift_aid_claims'))
    )
    with op.batch_alter_table('gift_aid_claims', schema=None) as batch_op:
        batch_op.create_index('uq_gift_aid_claims_one_draft', ['status'], unique=True, sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))

    op.create_table('donation_refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('donation_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('refunded_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_donation_refunds_positive_amount')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_donation_refunds_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_donation_refunds_donation_id_donations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_donation_refunds'))
    )
    with op.batch_alter_table('donation_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_donation_refunds_donation_id'), ['donation_id'], unique=False)

    op.create_table('gift_aid_claim_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('donation_id', sa.Integer(), nullable=True),
    sa.Column('aggregate_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=4), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('house', sa.String(length=100), nullable=False),
    sa.Column('postcode', sa.String(length=20), nullable=False),
    sa.Column('aggregated', sa.String(length=35), nullable=False),
    sa.Column('sponsored', sa.Boolean(), nullable=False),
    sa.Column('donation_date', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('(donation_id IS NULL) <> (aggregate_id IS NULL)', name=op.f('ck_gift_aid_claim_lines_gift_or_aggregate')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_gift_aid_claim_lines_positive_amount')),
    sa.ForeignKeyConstraint(['aggregate_id'], ['gift_aid_aggregates.id'], name=op.f('fk_gift_aid_claim_lines_aggregate_id_gift_aid_aggregates')),
    sa.ForeignKeyConstraint(['claim_id'], ['gift_aid_claims.id'], name=op.f('fk_gift_aid_claim_lines_claim_id_gift_aid_claims'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_gift_aid_claim_lines_donation_id_donations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gift_aid_claim_lines')),
    sa.UniqueConstraint('aggregate_id', name=op.f('uq_gift_aid_claim_lines_aggregate_id')),
    sa.UniqueConstraint('donation_id', name=op.f('uq_gift_aid_claim_lines_donation_id'))
    )
    with op.batch_alter_table('gift_aid_claim_lines', schema=None) as batch_op:
        batch_op.create_index('ix_gift_aid_claim_lines_claim', ['claim_id', 'donation_date', 'id'], unique=False)

    op.create_table('gift_aid_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('refund_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('gift_aid', sa.BigInteger(), nullable=False),
    sa.Column('carried_into_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_gift_aid_adjustments_positive_amount')),
    sa.ForeignKeyConstraint(['carried_into_id'], ['gift_aid_claims.id'], name=op.f('fk_gift_aid_adjustments_carried_into_id_gift_aid_claims'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['line_id'], ['gift_aid_claim_lines.id'], name=op.f('fk_gift_aid_adjustments_line_id_gift_aid_claim_lines')),
    sa.ForeignKeyConstraint(['refund_id'], ['donation_refunds.id'], name=op.f('fk_gift_aid_adjustments_refund_id_donation_refunds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gift_aid_adjustments')),
    sa.UniqueConstraint('refund_id', name=op.f('uq_gift_aid_adjustments_refund_id'))
    )
    with op.batch_alter_table('gift_aid_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gift_aid_adjustments_carried_into_id'), ['carried_into_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_gift_aid_adjustments_line_id'), ['line_id'], unique=False)

    # Columns added in place, never a batch: on SQLite a batch rebuilds donations, and dropping the
    # old table deletes its rows first, which takes every allocation with it (ON DELETE CASCADE).
    # SQLite cannot add a table's CHECK to an existing table, so there each check is its column's.
    if op.get_bind().dialect.name == 'sqlite':
        for column in DONATION_COLUMNS_SQLITE:
            op.execute(f"ALTER TABLE donations ADD COLUMN {column}")
    else:
        op.add_column('donations', sa.Column('benefit_value', sa.BigInteger(), server_default='0', nullable=False))
        op.add_column('donations', sa.Column('benefit_description', sa.String(length=200), nullable=True))
        op.add_column('donations', sa.Column('sponsored_event', sa.Boolean(), server_default=sa.false(),
                                             nullable=False))
        op.add_column('donations', sa.Column('refunded_amount', sa.BigInteger(), server_default='0', nullable=False))
        op.create_check_constraint(op.f('ck_donations_benefit_not_negative'), 'donations', 'benefit_value >= 0')
        op.create_check_constraint(op.f('ck_donations_refund_within_gift'), 'donations',
                                   'refunded_amount >= 0 AND refunded_amount <= amount')


DONATION_COLUMNS_SQLITE = [
    "benefit_value BIGINT DEFAULT '0' NOT NULL CONSTRAINT ck_donations_benefit_not_negative CHECK (benefit_value >= 0)",
    "benefit_description VARCHAR(200)",
    "sponsored_event BOOLEAN DEFAULT 0 NOT NULL",
    "refunded_amount BIGINT DEFAULT '0' NOT NULL CONSTRAINT ck_donations_refund_within_gift "
    "CHECK (refunded_amount >= 0 AND refunded_amount <= amount)",
]


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_donations_refund_within_gift'), 'donations', type_='check')
        op.drop_constraint(op.f('ck_donations_benefit_not_negative'), 'donations', type_='check')
    for column in ('refunded_amount', 'sponsored_event', 'benefit_description', 'benefit_value'):
        op.execute(f"ALTER TABLE donations DROP COLUMN {column}")  # in place, as upgrade() added them

    with op.batch_alter_table('gift_aid_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gift_aid_adjustments_line_id'))
        batch_op.drop_index(batch_op.f('ix_gift_aid_adjustments_carried_into_id'))

    op.drop_table('gift_aid_adjustments')
    with op.batch_alter_table('gift_aid_claim_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_gift_aid_claim_lines_claim')

    op.drop_table('gift_aid_claim_lines')
    with op.batch_alter_table('donation_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_donation_refunds_donation_id'))

    op.drop_table('donation_refunds')
    with op.batch_alter_table('gift_aid_claims', schema=None) as batch_op:
        batch_op.drop_index('uq_gift_aid_claims_one_draft', sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))

    op.drop_table('gift_aid_claims')
    with op.batch_alter_table('gift_aid_aggregates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gift_aid_aggregates_received_on'))

    op.drop_table('gift_aid_aggregates')
