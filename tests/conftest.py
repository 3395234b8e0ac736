"""Shared fixtures: `app`, `db`, `client`, and small factories (tests/factories.py).

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set (same tests).
"""

import os

import pytest
from flask import g, request_started
from sqlalchemy import text

from app import create_app
from app.config import _database_url
from app.extensions import app_engines
from app.extensions import db as _db
from app.privacy.service import forget_version


def _database_uri(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return _database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app({
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": _database_uri(tmp_path_factory),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
        "SENCE_JOURNAL_DIR": str(tmp_path_factory.mktemp("sence-journal")),
        "PUBLIC_BASE_URL": "http://localhost",
        "MAIL_SERVER": "",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashing keeps the suite quick
        "PRIVACY_NOTICE_GATE": False,  # on in tests/privacy (fixture `notice_gate`) and the privacy browser test
    })
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    request_started.connect(_forget_cached_user, app)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        for engine in app_engines():
            engine.dispose()


def _empty_tables() -> None:
    tables = list(reversed(_db.metadata.sorted_tables))
    if _db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        _db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        _db.session.execute(text("UPDATE sence_attempts SET session_id = NULL"))
        for table in tables:
            _db.session.execute(table.delete())
    _db.session.commit()


def _forget_cached_user(sender, **extra):
    """The test client reuses the test's app context, so `g` (and Flask-Login's cached user) would outlive a
    request; a real server starts each request without it (e.g. SENCE's cookie-less callbacks)."""
    for name in ("_login_user", "_enrollments", "_enrollment_extras", "_courses", "_course_rows", "_latest_attempts",
                 "csrf_token"):
        g.pop(name, None)


@pytest.fixture(autouse=True)
def db(app):
    """A clean database for every test, inside an application context."""
    with app.app_context():
        yield _db
        _db.session.rollback()
        _empty_tables()
        _db.session.remove()
        forget_version()  # the workers' memory of the privacy notice's version (this app and the live server's)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf_on(app):
    """Turn the CSRF check back on for one test (it is off by default to keep tests short)."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def backend(app) -> str:
    return _db.engine.dialect.name
