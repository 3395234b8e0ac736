"""SENCE settings that mean what they say: no "logout_required", session limit at most 180 minutes

Revision ID: 0002_sence_sim
Revises: 0001

"Exigir cierre de sesión SENCE" had no effect: SENCE counts only sessions opened and closed within the
limit, so Pizarra always asks for the close. Limits above SENCE's 3 hours are brought down to 180.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_sence_sim'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE course_sence SET session_limit_minutes = 180 WHERE session_limit_minutes > 180")
    with op.batch_alter_table('course_sence') as batch_op:
        batch_op.drop_column('logout_required')


def downgrade():
    with op.batch_alter_table('course_sence') as batch_op:
        batch_op.add_column(sa.Column('logout_required', sa.Boolean(), nullable=False, server_default=sa.true()))
