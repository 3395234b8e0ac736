"""Pizarra against the strict simulator, without a browser: each hop is the request the browser would make.

Pizarra's trip form → SENCE (simulator) → 303 to ClaveÚnica (another app, another origin) → back to SENCE →
SENCE's answer form → Pizarra's callback, posted without any cookie. The simulator knows the test data
(tests/sence/sence_registry.py), so these codes are SENCE's verdict on what Pizarra sent, not a training button.
"""

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.sence.models import Attempt, SenceSession
from app.simulator import create_claveunica_app, create_simulator_app
from tests.factories import open_session
from tests.sence import sence_registry as known
from tests.sence.builders import form_action, form_fields, make_otec, sence_course, signed_in_participant

CLAVEUNICA_ORIGIN = "http://127.0.0.1:5002"


class Sence:
    """The simulator's two apps and the cookie-less browser hop into Pizarra."""

    def __init__(self, app):
        config = {"TESTING": True, "SECRET_KEY": "s", "SIMULATOR_REGISTRY": known.SIMULATOR_REGISTRY,
                  "SIMULATOR_CLAVEUNICA_URL": CLAVEUNICA_ORIGIN}
        self.rce = create_simulator_app(config).test_client()
        self.claveunica = create_claveunica_app(config).test_client()
        self.pizarra_cross_site = app.test_client()  # SENCE's POST carries no Pizarra cookie

    def trip(self, client, course, kind="iniciar", run=None, password="1234"):  # noqa: S107 - the simulator's
        """Press the button in Pizarra and follow every hop; returns the ClaveÚnica page if it keeps us there."""
        html = client.post(f"/sence/cursos/{course.id}/{kind}", data={"via_popup": "0"}).get_data(as_text=True)
        page = self.rce.post(urlsplit(form_action(html)).path, data=form_fields(html))
        if page.status_code == 303:
            login_page = self.claveunica.get(_path(page.headers["Location"]))
            solicitud = re.search(r'name="solicitud" value="([^"]+)"', login_page.get_data(as_text=True)).group(1)
            page = self.claveunica.post("/openid/authorize", data={
                "solicitud": unescape(solicitud), "run": run or form_fields(html)["RunAlumno"], "password": password})
            if page.status_code != 303:
                return page
            page = self.rce.get(_path(page.headers["Location"]))
        answer = page.get_data(as_text=True)
        action = unescape(re.search(r'<form method="post" action="([^"]+)" data-autosubmit', answer).group(1))
        return self.pizarra_cross_site.post(urlsplit(action).path, data=form_fields(answer))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def sence(app):
    return Sence(app)


def _attempts(db) -> list[tuple[str, str, str]]:
    db.session.expire_all()
    attempts = db.session.execute(select(Attempt).order_by(Attempt.id)).scalars()
    return [(a.kind, a.status, a.error_codes) for a in attempts]


def test_a_login_and_its_logout_are_accepted_by_the_strict_simulator(client, sence, db):
    course = sence_course(environment="simulator")
    signed_in_participant(client, course)

    assert sence.trip(client, course).status_code == 303  # back to the course page
    assert sence.trip(client, course, "cerrar").status_code == 303

    assert _attempts(db) == [("login", "succeeded", ""), ("logout", "succeeded", "")]
    assert db.session.execute(select(SenceSession.status)).scalar_one() == "closed"


@pytest.mark.parametrize(
    ("otec_token", "codigo_curso", "code"),
    [
        (None, known.NOT_ON_ROSTER, "208"),
        (known.OTHER_OTECS_TOKEN, None, "211"),
        (known.REVOKED_TOKEN, None, "212"),
        (None, known.WRONG_LINE, "301"),
        (None, known.WRONG_COD_SENCE, "306"),
        (None, known.NOT_ELEARNING, "307"),
        (None, known.OTHER_OTECS_COURSE, "308"),
        (None, known.NOT_TODAY, "309"),
        (None, known.FINISHED, "310"),
    ],
)
def test_what_sence_knows_refuses_the_login(client, sence, db, otec_token, codigo_curso, code):
    otec = make_otec(token=otec_token) if otec_token else None
    codes = {"codigo_curso": codigo_curso} if codigo_curso else {}
    course = sence_course(otec=otec, environment="simulator", **codes)
    signed_in_participant(client, course)

    sence.trip(client, course)

    assert _attempts(db) == [("login", "failed", code)]
    assert db.session.execute(select(SenceSession)).first() is None


def test_closing_a_session_sence_never_opened_answers_301(client, sence, db):
    course = sence_course(environment="simulator")
    user = signed_in_participant(client, course)
    session = open_session(user, course, started_minutes_ago=20)  # Pizarra has it; SENCE does not

    sence.trip(client, course, "cerrar")

    db.session.refresh(session)
    assert (session.status, session.close_error_codes) == ("close_failed", "301")


def test_a_claveunica_for_another_run_answers_311(client, sence, db):
    course = sence_course(environment="simulator")
    signed_in_participant(client, course)

    sence.trip(client, course, run="11111111-1")

    assert _attempts(db) == [("login", "failed", "311")]


def test_a_wrong_claveunica_sends_pizarra_nothing(client, sence, db):
    course = sence_course(environment="simulator")
    signed_in_participant(client, course)

    page = sence.trip(client, course, password="0000")

    assert page.status_code == 401 and "RUN o ClaveÚnica incorrectos" in page.get_data(as_text=True)
    assert _attempts(db) == [("login", "pending", "")]
