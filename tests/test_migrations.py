"""The Alembic migrations build, on an empty database, exactly the schema the models describe."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from app.config import ROOT, _database_url
from app.extensions import db


@pytest.fixture
def empty_database_url(tmp_path):
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    url = make_url(_database_url(base))
    name = f"pizarra_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _app_on(database_url: str):
    """The app on `database_url`, with the repository's migrations."""
    return create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                       "MIGRATIONS_DIR": str(ROOT / "migrations")})


def test_migrations_upgrade_an_empty_database_to_the_models(empty_database_url):
    app = _app_on(empty_database_url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
            tables = set(inspect(conn).get_table_names())
        db.engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    assert {"users", "courses", "enrollments", "sence_attempts", "sence_sessions"} <= tables


def test_migrating_leaves_the_apps_loggers_working(empty_database_url):
    """alembic's fileConfig would otherwise disable every logger that already exists (app.sence.*, ...)."""
    import logging

    import app.sence.journal  # noqa: F401 (its module logger exists before the migration runs)

    app = _app_on(empty_database_url)
    logger = logging.getLogger("app.sence.journal")
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()
    assert logger.disabled is False


def test_signing_in_by_e_mail_finds_the_account_through_an_index(empty_database_url):
    """Alembic cannot compare expression indexes, so the one on lower(email) is checked by its plan."""
    app = _app_on(empty_database_url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        with db.engine.connect() as conn:
            query = "SELECT id FROM users WHERE lower(email) = 'ana@demo.cl'"
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET enable_seqscan = off"))  # an empty table: the planner would scan it anyway
                plan = conn.execute(text("EXPLAIN " + query))
            else:
                plan = conn.execute(text("EXPLAIN QUERY PLAN " + query))
            plan = " ".join(str(row) for row in plan)
        db.engine.dispose()
    assert "ix_users_email_lower" in plan, plan
