"""Sign-in throttling: failures count per account *and* client (whatever alias of the account was typed) and per
client, in a store every worker shares (the database by default, Redis when configured)."""

import logging
import time
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
import redis

from app import create_app
from app.auth.throttle import DatabaseStorage
from app.extensions import limiter
from tests.factories import PASSWORD, make_user
from tests.security.app_process import AppProcess

THROTTLED = "Demasiados intentos fallidos de ingreso"


@pytest.fixture(autouse=True)
def limiter_off_afterwards():
    """Flask-Limiter keeps `enabled` on its one shared object: leave it off for the apps of later tests."""
    yield
    limiter.enabled = False


def _overrides(app, **extra):
    return {**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR", "PASSWORD_HASH_METHOD")},
            "ENV": "testing", "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True, **extra}


def _throttled_app(app, storage=None):
    return create_app(_overrides(app, **({"RATELIMIT_STORAGE_URI": storage} if storage else {})))


def _attempt(client, identifier, password="incorrecta", ip="10.0.0.1"):
    return client.post("/ingresar", data={"identifier": identifier, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_the_store_is_the_database_unless_another_is_configured(app):
    assert _throttled_app(app).config["RATELIMIT_STORAGE_URI"] == "database://"


def test_ten_failures_from_one_client_lock_the_account_there_whatever_alias_was_typed(app):
    make_user(run="11111111-1", email="ana@otec.cl")
    client = _throttled_app(app).test_client()
    aliases = ["11.111.111-1", "111111111", "ANA@otec.cl", "11111111-1", "ana@otec.cl"]
    for i in range(10):
        assert _attempt(client, aliases[i % 5]).status_code == 422
    refused = _attempt(client, "ana@otec.cl", password=PASSWORD)
    assert refused.status_code == 429
    assert THROTTLED in refused.get_data(as_text=True)


def test_the_owner_signs_in_from_elsewhere_while_a_stranger_is_locked_out(app):
    make_user(run="11111111-1")
    client = _throttled_app(app).test_client()
    for _ in range(10):
        _attempt(client, "11111111-1", ip="10.6.6.6")
    assert _attempt(client, "11111111-1", password=PASSWORD, ip="10.6.6.6").status_code == 429
    assert _attempt(client, "11111111-1", password=PASSWORD, ip="10.0.2.1").status_code == 302


def test_one_client_guessing_many_accounts_is_stopped(app):
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


def test_a_per_process_store_is_announced_at_start(app, caplog):
    with caplog.at_level(logging.WARNING):
        _throttled_app(app, "memory://")
    assert any("memory://" in r.getMessage() and "per process" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        _throttled_app(app)
    assert not any("memory://" in r.getMessage() for r in caplog.records)


def test_a_window_starts_again_once_it_has_expired(app):
    storage = DatabaseStorage("database://")
    assert [storage.incr("k", 1) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3
    time.sleep(1.1)
    assert storage.get("k") == 0
    assert storage.incr("k", 1) == 1


def _post(url, identifier, password="incorrecta"):
    body = urlencode({"identifier": identifier, "password": password}).encode()
    try:
        with urlopen(Request(url + "/ingresar", data=body, method="POST"), timeout=30) as response:
            return response.status
    except HTTPError as error:
        return error.code


@pytest.fixture
def two_servers(app):
    """Two app processes on the test database, as two gunicorn workers (or two servers) would be."""
    servers = [AppProcess(_overrides(app)), AppProcess(_overrides(app))]
    yield servers
    for server in servers:
        server.stop()


def test_two_processes_count_the_same_failures(app, two_servers):
    make_user(run="11111111-1", email="ana@otec.cl")
    first, second = two_servers
    for i in range(10):
        server = first if i % 2 else second
        assert _post(server.url, "11111111-1" if i % 3 else "ana@otec.cl") == 422
    assert _post(first.url, "ana@otec.cl", PASSWORD) == 429
    assert _post(second.url, "11.111.111-1", PASSWORD) == 429


def test_servers_sharing_redis_share_the_limit(app):
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    make_user(run="11111111-1")
    first = _throttled_app(app, "redis://127.0.0.1:6379/15").test_client()
    second = _throttled_app(app, "redis://127.0.0.1:6379/15").test_client()
    for i in range(10):
        _attempt(first if i % 2 else second, "11111111-1")
    assert _attempt(second, "11111111-1", password=PASSWORD).status_code == 429
    redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
