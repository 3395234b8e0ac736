"""Users: an index on lower(email), so that signing in by e-mail (any case) does not scan every account

Revision ID: 0011_email_lower_index
Revises: 0010_course_outline
Create Date: 2026-12-02 06:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_email_lower_index'
down_revision = '0010_course_outline'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_users_email_lower', 'users', [sa.text('lower(email)')])


def downgrade():
    op.drop_index('ix_users_email_lower', table_name='users')
