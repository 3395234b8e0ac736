"""The session cookie checked once per worker (app/sessions.py): a cookie it has seen is still refused when it is
too old, tampered with or signed with a key no longer in use, and every request gets a session of its own."""

import time

import pytest
from flask.sessions import SecureCookieSessionInterface

from app.sessions import VerifiedOnceSessionInterface


@pytest.fixture
def interface(app):
    """A fresh memo, and the app's keys and lifetime restored afterwards."""
    saved = (app.secret_key, app.config["SECRET_KEY_FALLBACKS"], app.permanent_session_lifetime)
    yield VerifiedOnceSessionInterface()
    app.secret_key, app.config["SECRET_KEY_FALLBACKS"], app.permanent_session_lifetime = saved


def _cookie(app, data: dict) -> str:
    return SecureCookieSessionInterface().get_signing_serializer(app).dumps(data)


def _open(app, interface, cookie: str):
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}) as context:
        return interface.open_session(app, context.request)


def test_a_cookie_seen_before_opens_the_same_session_and_each_request_gets_its_own(app, interface):
    cookie = _cookie(app, {"_user_id": "7:0", "_flashes": [("info", "Hola")]})
    first = _open(app, interface, cookie)
    first["_user_id"] = "8:0"
    first["_flashes"].append(("info", "otro"))
    again = _open(app, interface, cookie)
    assert dict(again) == {"_user_id": "7:0", "_flashes": [("info", "Hola")]}
    assert not again.modified


def test_a_tampered_cookie_is_an_empty_session_after_the_genuine_one_was_seen(app, interface):
    cookie = _cookie(app, {"_user_id": "7:0"})
    assert _open(app, interface, cookie)["_user_id"] == "7:0"
    payload, stamp, signature = cookie.rsplit(".", 2)
    forged = _cookie(app, {"_user_id": "1:0"}).rsplit(".", 2)[0] + f".{stamp}.{signature}"
    assert dict(_open(app, interface, forged)) == {}
    assert dict(_open(app, interface, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))) == {}


def test_a_cookie_older_than_the_session_lifetime_is_refused_even_when_seen_before(app, interface):
    cookie = _cookie(app, {"_user_id": "7:0"})
    assert _open(app, interface, cookie)["_user_id"] == "7:0"
    app.permanent_session_lifetime = 1
    time.sleep(2.1)
    assert dict(_open(app, interface, cookie)) == {}


def test_a_key_taken_out_of_use_refuses_its_cookies_and_a_fallback_still_reads_them(app, interface):
    cookie = _cookie(app, {"_user_id": "7:0"})
    old_key = app.secret_key
    assert _open(app, interface, cookie)["_user_id"] == "7:0"
    app.secret_key = "a-new-key-after-a-leak-" + "x" * 20
    assert dict(_open(app, interface, cookie)) == {}
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert _open(app, interface, cookie)["_user_id"] == "7:0"


def test_the_app_signs_its_users_in_with_it(app, client):
    assert isinstance(app.session_interface, VerifiedOnceSessionInterface)
