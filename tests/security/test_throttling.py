"""Sign-in throttling: per account (whatever the RUN's spelling) and per IP address, with a clear message."""

import pytest
import redis

from app import create_app
from app.extensions import limiter
from tests.factories import PASSWORD, make_user

THROTTLED = "Demasiados intentos fallidos de ingreso"


@pytest.fixture(autouse=True)
def limiter_off_afterwards():
    """Flask-Limiter keeps `enabled` on its one shared object: leave it off for the apps of later tests."""
    yield
    limiter.enabled = False


def _throttled_app(app, storage="memory://"):
    return create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR")},
                       "ENV": "testing", "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                       "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": storage})


def _attempt(client, identifier, password="incorrecta", ip="10.0.0.1"):
    return client.post("/ingresar", data={"identifier": identifier, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_ten_failed_sign_ins_lock_the_account_even_with_the_right_password(app):
    make_user(run="11111111-1")
    client = _throttled_app(app).test_client()
    spellings = ["11.111.111-1", "111111111", "11111111-1"]
    for i in range(10):
        assert _attempt(client, spellings[i % 3], ip=f"10.0.0.{i}").status_code == 422
    refused = _attempt(client, "11111111-1", password=PASSWORD, ip="10.0.1.1")
    assert refused.status_code == 429
    assert THROTTLED in refused.get_data(as_text=True)


def test_another_account_is_not_locked_by_someone_elses_failures(app):
    make_user(run="11111111-1")
    benito = make_user(run="22222222-2")
    client = _throttled_app(app).test_client()
    for i in range(10):
        _attempt(client, "11111111-1", ip=f"10.0.0.{i}")
    assert _attempt(client, benito.run, password=PASSWORD, ip="10.0.2.1").status_code == 302


def test_one_address_guessing_many_accounts_is_stopped(app):
    client = _throttled_app(app).test_client()
    statuses = [_attempt(client, f"persona{i}@otec.cl", ip="10.9.9.9").status_code for i in range(51)]
    assert statuses[:50] == [422] * 50
    assert statuses[50] == 429


def test_successful_sign_ins_do_not_count(app):
    user = make_user(email="ana@otec.cl")
    client = _throttled_app(app).test_client()
    for _ in range(12):
        assert _attempt(client, user.email, password=PASSWORD).status_code == 302
        client.post("/salir")


def test_servers_sharing_redis_share_the_limit(app):
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    make_user(run="11111111-1")
    first = _throttled_app(app, "redis://127.0.0.1:6379/15").test_client()
    second = _throttled_app(app, "redis://127.0.0.1:6379/15").test_client()
    for i in range(10):
        _attempt(first if i % 2 else second, "11111111-1", ip=f"10.0.3.{i}")
    assert _attempt(second, "11111111-1", password=PASSWORD, ip="10.0.4.1").status_code == 429
    redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
