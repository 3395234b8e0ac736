"""SENCE v1.1.6: sessions timed by our clock, logout bound to the login, one live session, evidence flags

Revision ID: 0003_sence_v116
Revises: 0002_sence_sim
"""
from alembic import op
import sqlalchemy as sa

import app.timeutil


revision = '0003_sence_v116'
down_revision = '0002_sence_sim'
branch_labels = None
depends_on = None

LIVE = sa.text("status IN ('open', 'close_failed')")


def upgrade():
    with op.batch_alter_table('sence_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rut_otec', sa.String(length=10), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('base_url', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('answerable_until', app.timeutil.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('sence_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sence_started_at', app.timeutil.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sence_closed_at', app.timeutil.UTCDateTime(timezone=True), nullable=True))
    # Before the unique index: older duplicates of a live session are kept, but as superseded.
    op.execute(
        "UPDATE sence_sessions SET status = 'superseded' WHERE status IN ('open', 'close_failed') AND EXISTS ("
        "SELECT 1 FROM sence_sessions later WHERE later.user_id = sence_sessions.user_id "
        "AND later.course_id = sence_sessions.course_id AND later.status IN ('open', 'close_failed') "
        "AND later.id > sence_sessions.id)"
    )
    with op.batch_alter_table('sence_sessions', schema=None) as batch_op:
        batch_op.create_index('uq_sence_sessions_one_live', ['user_id', 'course_id'], unique=True,
                              sqlite_where=LIVE, postgresql_where=LIVE)
        batch_op.create_index('ix_sence_sessions_user_course_started', ['user_id', 'course_id', 'started_at'],
                              unique=False)
    with op.batch_alter_table('sence_exchanges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flags', sa.String(length=100), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('sence_exchanges', schema=None) as batch_op:
        batch_op.drop_column('flags')
    with op.batch_alter_table('sence_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sence_sessions_user_course_started')
        batch_op.drop_index('uq_sence_sessions_one_live')
        batch_op.drop_column('sence_closed_at')
        batch_op.drop_column('sence_started_at')
    with op.batch_alter_table('sence_attempts', schema=None) as batch_op:
        batch_op.drop_column('answerable_until')
        batch_op.drop_column('base_url')
        batch_op.drop_column('rut_otec')
