"""Pooled connections (app/extensions.py): one the database server ended is replaced before any page uses it, and
a live one is handed out without a ping round trip."""

import time

import psycopg
import pytest
from sqlalchemy import create_engine, text


@pytest.fixture
def engine(app, backend):
    if backend != "postgresql":
        pytest.skip("a SQLite file never disconnects")
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(engine, pid: int) -> None:
    """What a PostgreSQL restart or failover does to every connection."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(100):  # until the server has let it go
            if other.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()[0] == 0:
                return
            time.sleep(0.01)


def test_a_connection_the_server_ended_is_replaced_before_use(engine):
    pid = _backend_pid(engine)
    _terminate(engine, pid)

    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid


def test_a_live_connection_is_handed_out_without_a_ping(engine):
    pid = _backend_pid(engine)
    with engine.connect() as connection:
        driver = connection.connection.dbapi_connection
        assert driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # no SELECT 1 began one
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
