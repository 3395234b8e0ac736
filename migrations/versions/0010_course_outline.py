"""Courses: content_version, the stamp each worker's copy of a course's outline follows (issue 15)

Revision ID: 0010_course_outline
Revises: 0009_sic
Create Date: 2026-12-01 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_course_outline'
down_revision = '0009_sic'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_version', sa.BigInteger(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_column('content_version')
