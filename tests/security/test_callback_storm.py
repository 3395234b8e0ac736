"""Callback storm: SENCE's answers arriving all at once at a real threaded server on PostgreSQL.

Each answer must be recorded exactly once, duplicates must not open a second session, and an answer whose
database connection dropped is retried on a fresh one, or kept on disk and replayed by the sweep: never lost.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import psycopg
import pytest
from sqlalchemy import func, insert, select, text
from werkzeug.serving import make_server

from app import create_app
from app.auth.models import User
from app.extensions import app_engines
from app.extensions import db as _db
from app.sence import journal, protocol, signals
from app.sence.models import Attempt, Exchange, SenceSession
from app.timeutil import utcnow
from tests.factories import valid_run
from tests.sence.builders import sence_course, success_answer

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="the callback storm needs PostgreSQL (set TEST_DATABASE_URL): SQLite serialises all writers",
)


class _Server:
    """A threaded werkzeug server for a Pizarra app on the test database, in a thread of this process."""

    def __init__(self, wsgi_app):
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def server(app):
    served = create_app({
        "ENV": "testing",
        "SECRET_KEY": "storm-secret",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10, "max_overflow": 20},  # no pool_pre_ping, as in production
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "SENCE_JOURNAL_DIR": app.config["SENCE_JOURNAL_DIR"],
        "PUBLIC_BASE_URL": "http://localhost",
        "RATELIMIT_ENABLED": False,
        "MAIL_SERVER": "",
    })
    running = _Server(served)
    yield running
    running.stop()
    with served.app_context():
        for engine in app_engines():
            engine.dispose()


def _post(url: str, fields: dict[str, str]) -> tuple[int, str]:
    """SENCE's answer as the browser posts it cross-site: a form, no cookie. (0, reason) if no answer came."""
    request = Request(url, data=urlencode(fields).encode(), method="POST")
    try:
        with urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except HTTPError as error:
        return error.code, error.read().decode()
    except (URLError, ConnectionError) as error:
        return 0, str(error)


def _pending_attempts(course, count: int) -> list[dict[str, str]]:
    """`count` participants, each with a pending login attempt; returns what each attempt sent to SENCE."""
    base = 20_000_000 + course.id * 1000
    users = [{"full_name": f"Participante {n}", "email": f"storm{course.id}-{n}@example.cl",
              "run": valid_run(base + n), "role": "participant"} for n in range(count)]
    user_ids = _db.session.execute(insert(User).returning(User.id), users).scalars().all()
    settings, now = course.sence, utcnow()
    sent = [{"IdSesionAlumno": protocol.new_id_sesion_alumno(), "RunAlumno": users[i]["run"],
             "CodSence": settings.cod_sence, "CodigoCurso": settings.codigo_curso,
             "LineaCapacitacion": str(settings.linea)} for i in range(count)]
    _db.session.execute(insert(Attempt), [
        {"kind": "login", "id_sesion_alumno": s["IdSesionAlumno"], "user_id": user_id, "course_id": course.id,
         "environment": settings.environment, "run_alumno": s["RunAlumno"], "cod_sence": s["CodSence"],
         "codigo_curso": s["CodigoCurso"], "linea": settings.linea, "via_popup": True, "status": "pending",
         "created_at": now} for s, user_id in zip(sent, user_ids, strict=True)])
    _db.session.commit()
    return sent


def _answers(sent: list[dict[str, str]]) -> list[dict[str, str]]:
    return [success_answer(s, IdSesionSence=f"{90_000_000_000 + i:020d}") for i, s in enumerate(sent)]


def _post_all(url: str, answers: list[dict[str, str]], workers: int) -> list[tuple[int, str]]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda answer: _post(url, answer), answers))


def _count(model, *where) -> int:
    _db.session.expire_all()
    return _db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _in_outcomes() -> dict[str, int]:
    _db.session.expire_all()
    rows = _db.session.execute(select(Exchange.outcome, func.count()).where(Exchange.direction == "in")
                               .group_by(Exchange.outcome)).all()
    return dict(rows)


def test_500_distinct_answers_at_once_are_each_recorded_once(server):
    course = sence_course()
    sent = _pending_attempts(course, 500)

    results = _post_all(server.url + "/s/r", _answers(sent), workers=40)

    assert sorted({status for status, _ in results}) == [200]
    assert all("Sesión SENCE iniciada" in html for _, html in results)
    assert _count(SenceSession) == 500
    assert _count(SenceSession, SenceSession.status == "open") == 500
    per_attempt = _db.session.execute(select(func.count()).select_from(SenceSession)
                                      .group_by(SenceSession.login_attempt_id)).scalars().all()
    assert len(per_attempt) == 500 and set(per_attempt) == {1}
    assert _count(Attempt, Attempt.status == "succeeded", Attempt.session_id.is_not(None)) == 500
    assert _in_outcomes() == {"accepted": 500}


def test_the_same_answer_fifty_times_at_once_opens_one_session(server):
    course = sence_course()
    answer = _answers(_pending_attempts(course, 1))[0]
    barrier = threading.Barrier(50)

    def deliver(_):
        barrier.wait()
        return _post(server.url + "/s/r", answer)

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(deliver, range(50)))

    assert [status for status, _ in results] == [200] * 50
    assert all("Sesión SENCE iniciada" in html for _, html in results)
    assert _count(SenceSession) == 1
    assert _in_outcomes() == {"accepted": 1, "duplicate": 49}
    attempt = _db.session.execute(select(Attempt)).scalar_one()
    assert attempt.status == "succeeded" and attempt.answer_fields["IdSesionSence"] == answer["IdSesionSence"]


def _libpq_url() -> str:
    return _db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _terminate_other_backends() -> int:
    """Drop every other connection to the test database (what a PostgreSQL restart or failover does)."""
    killed = _db.session.execute(text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    _db.session.commit()
    return killed


def test_an_answer_after_the_connections_dropped_is_accepted(server):
    course = sence_course()
    warm_up, answer = _answers(_pending_attempts(course, 2))
    assert _post(server.url + "/s/r", warm_up)[0] == 200  # the server's pool now holds a connection
    assert _terminate_other_backends() >= 1

    status, html = _post(server.url + "/s/r", answer)

    assert status == 200 and "Sesión SENCE iniciada" in html  # the checkout's liveness check replaced it
    assert _count(SenceSession) == 2


def _drop_connection_while_opening(times: int):
    """Terminate the server's database connection from outside while it opens a session, `times` times."""
    fired = []

    def kill_mid_transaction(sence_session):
        if len(fired) >= times:
            return
        pid = _db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()  # the server's connection
        with psycopg.connect(_libpq_url(), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (pid,))
        fired.append(pid)

    return fired, kill_mid_transaction


@pytest.fixture
def connection_drops():
    receivers = []

    def arm(times: int) -> list:
        fired, receiver = _drop_connection_while_opening(times)
        signals.session_opened.connect(receiver)
        receivers.append(receiver)
        return fired

    yield arm
    for receiver in receivers:
        signals.session_opened.disconnect(receiver)


def test_an_answer_cut_off_by_a_dropped_connection_is_retried_on_a_fresh_one(server, connection_drops):
    course = sence_course()
    answer = _answers(_pending_attempts(course, 1))[0]
    fired = connection_drops(1)

    status, html = _post(server.url + "/s/r", answer)

    assert fired, "the connection was not dropped"
    assert status == 200 and "Sesión SENCE iniciada" in html
    assert _count(SenceSession) == 1
    assert _count(Attempt, Attempt.status == "succeeded") == 1
    assert _in_outcomes() == {"accepted": 1}


def test_an_answer_the_database_cannot_take_is_kept_and_replayed_by_the_sweep(app, server, connection_drops):
    course = sence_course()
    answer = _answers(_pending_attempts(course, 1))[0]
    fired = connection_drops(2)  # the first try and the retry both lose their connection

    status, html = _post(server.url + "/s/r", answer)

    assert len(fired) == 2
    assert status == 202 and "Estamos procesando la respuesta de SENCE" in html
    assert "Tu asistencia no se perdió" in html and "Error interno" not in html
    assert _count(SenceSession) == 0 and _count(Attempt, Attempt.status == "pending") == 1
    kept = journal.pending()
    assert len(kept) == 1 and answer["IdSesionAlumno"] in kept[0].read_text()

    result = app.test_cli_runner().invoke(args=["sweep"])

    assert "Respuestas SENCE recuperadas: 1" in result.output, result.output
    assert journal.pending() == []
    sence_session = _db.session.execute(select(SenceSession)).scalar_one()
    assert sence_session.status == "open" and sence_session.id_sesion_sence == answer["IdSesionSence"]
    assert _in_outcomes() == {"accepted": 1}


def test_answers_in_flight_when_the_connections_drop_are_all_recorded_once(app, server):
    course = sence_course()
    answers = _answers(_pending_attempts(course, 120))
    url = server.url + "/s/r"

    with ThreadPoolExecutor(max_workers=24) as pool:
        futures = [pool.submit(_post, url, answer) for answer in answers]
        for _ in range(5):
            threading.Event().wait(0.05)
            _terminate_other_backends()
        results = [future.result() for future in futures]

    for status, html in results:
        assert status in (200, 202), html
        assert "Error interno" not in html and "Traceback" not in html
    app.test_cli_runner().invoke(args=["sweep"])

    assert journal.pending() == []
    assert _count(SenceSession) == 120
    assert _count(Attempt, Attempt.status == "succeeded") == 120
    assert _in_outcomes().get("accepted") == 120


def test_successes_of_several_attempts_of_one_participant_at_once_leave_one_live_session(server):
    """Double click, popup plus retry, two tabs: every answer is recorded, one session stands (issue 9, item 4)."""
    course = sence_course()
    [first] = _pending_attempts(course, 1)
    user_id = _db.session.execute(select(Attempt.user_id).where(Attempt.id_sesion_alumno == first["IdSesionAlumno"])
                                  ).scalar_one()
    settings, now = course.sence, utcnow()
    sent = [first] + [dict(first, IdSesionAlumno=protocol.new_id_sesion_alumno()) for _ in range(5)]
    _db.session.execute(insert(Attempt), [
        {"kind": "login", "id_sesion_alumno": s["IdSesionAlumno"], "user_id": user_id, "course_id": course.id,
         "environment": settings.environment, "run_alumno": s["RunAlumno"], "cod_sence": s["CodSence"],
         "codigo_curso": s["CodigoCurso"], "linea": settings.linea, "via_popup": True, "status": "pending",
         "created_at": now} for s in sent[1:]])
    _db.session.commit()

    results = _post_all(server.url + "/s/r", _answers(sent), workers=6)

    assert [status for status, _ in results] == [200] * 6
    assert _count(SenceSession, SenceSession.user_id == user_id, SenceSession.status == "open") == 1
    assert _count(SenceSession, SenceSession.user_id == user_id, SenceSession.status == "superseded") == 5
    assert _in_outcomes() == {"accepted": 6}
    assert _count(Exchange, Exchange.flags.like("%superseded%")) == 5
