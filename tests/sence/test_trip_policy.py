"""The page that auto-posts to SENCE has its own CSP: SENCE's redirect to ClaveÚnica (another origin) must pass.

The browser proof (Chromium blocking the redirect under the site's policy) is in tests/browser/test_sence_flow.py.
"""

import re

from app import create_app
from app.security import trip_content_security_policy
from tests.factories import open_session
from tests.sence.builders import sence_course, signed_in_participant


def _directives(csp: str) -> dict[str, set[str]]:
    parts = (part.split() for part in csp.split(";") if part.strip())
    return {words[0]: set(words[1:]) for words in parts}


def test_the_trip_page_lets_any_https_hop_and_the_simulators_two_origins_through(client, db):
    course = sence_course()
    user = signed_in_participant(client, course)
    login_trip = client.post(f"/sence/cursos/{course.id}/iniciar", data={"via_popup": "1"})
    open_session(user, course, started_minutes_ago=5)
    logout_trip = client.post(f"/sence/cursos/{course.id}/cerrar", data={"via_popup": "1"})

    for trip in (login_trip, logout_trip):
        assert "Conectando con SENCE" in trip.get_data(as_text=True)
        policy = _directives(trip.headers["Content-Security-Policy"])
        assert policy["form-action"] == {"'self'", "https:", "http://127.0.0.1:5001", "http://127.0.0.1:5002"}


def test_only_the_trip_page_is_relaxed(client, db):
    course = sence_course()
    signed_in_participant(client, course)
    site = _directives(client.get(f"/cursos/{course.id}").headers["Content-Security-Policy"])
    trip = _directives(client.post(f"/sence/cursos/{course.id}/iniciar").headers["Content-Security-Policy"])

    assert site["form-action"] == {"'self'", "http://127.0.0.1:5001", "https://sistemas.sence.cl"}
    assert "https:" not in site["form-action"]
    trip.pop("form-action"), site.pop("form-action")
    assert trip == site
    assert trip["script-src"] == {"'self'"} and trip["frame-ancestors"] == {"'none'"}


def test_in_production_the_trip_page_allows_https_only(app):
    prod = create_app({"ENV": "production", "SECRET_KEY": "s",
                       "TOKEN_ENCRYPTION_KEY": app.config["TOKEN_ENCRYPTION_KEY"],
                       "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    form_action = re.search(r"form-action ([^;]+)", trip_content_security_policy(prod)).group(1).split()
    assert form_action == ["'self'", "https:"]
