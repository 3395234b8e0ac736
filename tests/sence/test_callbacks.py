"""SENCE's answers: cross-site POSTs without cookies, accepted only for a pending, recent, matching attempt."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.sence import protocol, signals
from app.sence.models import Attempt, Exchange, SenceSession
from tests.factories import login
from tests.sence.builders import (
    error_answer,
    minutes_ago,
    participant_in,
    sence_course,
    signed_in_participant,
    start,
    success_answer,
)


@pytest.fixture
def stranger(app):
    """SENCE's POST as the browser sends it cross-site: no cookie at all."""
    return app.test_client()


def _count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _in_exchanges(db) -> list[Exchange]:
    return db.session.execute(
        select(Exchange).where(Exchange.direction == "in").order_by(Exchange.id)).scalars().all()


def _started(client, db, **sence):
    course = sence_course(**sence)
    user = signed_in_participant(client, course)
    return course, user, start(client, course)


def test_a_callback_without_any_cookie_opens_the_session(client, stranger, db):
    course, user, sent = _started(client, db)

    response = stranger.post("/s/r", data=success_answer(sent))

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Sesión SENCE iniciada" in html and 'data-status="opened"' in html
    assert "Set-Cookie" not in response.headers  # must never replace the participant's login cookie
    session = db.session.execute(select(SenceSession)).scalar_one()
    assert (session.user_id, session.course_id, session.status) == (user.id, course.id, "open")
    assert session.id_sesion_sence == "48213579061234567890"
    attempt = db.session.execute(select(Attempt)).scalar_one()
    assert attempt.status == "succeeded" and attempt.session_id == session.id
    assert attempt.answer_fields["IdSesionSence"] == "48213579061234567890"
    assert [x.outcome for x in _in_exchanges(db)] == ["accepted"]


def test_the_session_keeps_sences_time_raw_and_in_utc_as_evidence(client, stranger, db):
    course, _, sent = _started(client, db, session_limit_minutes=120)
    answer = success_answer(sent, FechaHora="2025-01-15 10:30:00", ZonaHoraria="America/Santiago")

    stranger.post("/s/r", data=answer)

    session = db.session.execute(select(SenceSession)).scalar_one()
    assert session.started_raw == "2025-01-15 10:30:00" and session.zona_horaria == "America/Santiago"
    assert session.sence_started_at.isoformat() == "2025-01-15T13:30:00+00:00"  # summer time, UTC-3
    assert abs((session.started_at - minutes_ago(0)).total_seconds()) < 60  # our clock times the session
    assert session.expires_at == session.started_at + timedelta(minutes=120)
    assert session.time_flagged  # almost two years away from our clock


def test_an_unreadable_time_falls_back_to_receipt_and_is_flagged(client, stranger, db):
    _, _, sent = _started(client, db)

    stranger.post("/s/r", data=success_answer(sent, FechaHora="mañana temprano"))

    session = db.session.execute(select(SenceSession)).scalar_one()
    assert session.time_flagged and session.started_raw == "mañana temprano"
    assert session.is_live()


def test_a_duplicate_success_creates_one_session(client, stranger, db):
    _, _, sent = _started(client, db)
    answer = success_answer(sent)

    first = stranger.post("/s/r", data=answer)
    second = stranger.post("/s/r", data=answer)

    assert first.status_code == second.status_code == 200
    assert "Sesión SENCE iniciada" in second.get_data(as_text=True)
    assert _count(db, SenceSession) == 1
    assert [x.outcome for x in _in_exchanges(db)] == ["accepted", "duplicate"]


@pytest.mark.parametrize("case", ["unknown", "wrong_run", "wrong_course", "reused", "too_old"])
def test_a_forged_callback_changes_nothing_and_is_logged(client, stranger, db, case):
    _, _, sent = _started(client, db)
    answer = success_answer(sent)
    if case == "unknown":
        answer["IdSesionAlumno"] = protocol.new_id_sesion_alumno()
    elif case == "wrong_run":
        answer["RunAlumno"] = "11111111-1"
    elif case == "wrong_course":
        answer["CodigoCurso"] = "OTRO-CURSO-99"
    elif case == "reused":
        stranger.post("/s/r", data=answer)
        answer = success_answer(sent, IdSesionSence="99999999999999999999")
    elif case == "too_old":
        attempt = db.session.execute(select(Attempt)).scalar_one()
        attempt.created_at = minutes_ago(181)  # past the session limit: no session could still be open
        attempt.answerable_until = minutes_ago(1)
        db.session.commit()
    before = (_count(db, SenceSession), [a.status for a in db.session.execute(select(Attempt)).scalars()])

    response = stranger.post("/s/r", data=answer)

    html = response.get_data(as_text=True)
    assert response.status_code in (400, 409)
    assert "Respuesta de SENCE no aceptada" in html and "No se modificó ningún registro" in html
    db.session.expire_all()
    after = (_count(db, SenceSession), [a.status for a in db.session.execute(select(Attempt)).scalars()])
    assert after == before
    refused = _in_exchanges(db)[-1]
    expected = {"unknown": "refused:unknown", "wrong_run": "refused:run_mismatch",
                "wrong_course": "refused:course_mismatch", "reused": "refused:not_pending",
                "too_old": "refused:too_old"}[case]
    assert refused.outcome == expected
    assert refused.fields["IdSesionAlumno"] == answer["IdSesionAlumno"]


def test_a_callback_without_id_is_refused_and_logged(stranger, db):
    response = stranger.post("/s/e", data={"GlosaError": "200"})

    assert response.status_code == 400
    assert [x.outcome for x in _in_exchanges(db)] == ["refused:missing_id"]


def test_error_codes_fail_the_attempt_with_the_participant_guidance(client, stranger, db):
    _, _, sent = _started(client, db)

    response = stranger.post("/s/e", data=error_answer(sent, "100"))

    html = response.get_data(as_text=True)
    assert 'data-status="failed"' in html
    assert protocol.ERRORS[100].participant_message in html
    assert "https://cus.sence.cl/Account/RecuperarClave" in html  # help links for the participant's own errors
    attempt = db.session.execute(select(Attempt)).scalar_one()
    assert (attempt.status, attempt.error_codes) == ("failed", "100")
    assert _count(db, SenceSession) == 0


@pytest.mark.parametrize("code", sorted(protocol.ERRORS))
def test_each_error_code_yields_its_message(client, stranger, db, code):
    _, _, sent = _started(client, db)

    html = stranger.post("/s/e", data=error_answer(sent, str(code))).get_data(as_text=True)

    expected = protocol.ERRORS[code].participant_message
    assert expected.replace("'", "&#39;").replace('"', "&#34;") in html


def test_several_codes_yield_every_message(client, stranger, db):
    _, _, sent = _started(client, db)

    html = stranger.post("/s/e", data=error_answer(sent, "211;204")).get_data(as_text=True)

    assert html.count("código 211") == 1 and html.count("código 204") == 1
    assert db.session.execute(select(Attempt.error_codes)).scalar_one() == "211;204"


def test_an_unknown_code_still_says_something_clear(client, stranger, db):
    _, _, sent = _started(client, db)

    html = stranger.post("/s/e", data=error_answer(sent, "999")).get_data(as_text=True)

    assert "SENCE no pudo registrar tu asistencia (código 999)" in html


def test_an_answer_on_url_error_without_glosa_is_a_failure(client, stranger, db):
    _, _, sent = _started(client, db)

    stranger.post("/s/e", data=success_answer(sent))

    assert db.session.execute(select(Attempt.status)).scalar_one() == "failed"
    assert _count(db, SenceSession) == 0


def test_a_login_error_carrying_id_sesion_sence_is_still_an_error(client, stranger, db):
    _, _, sent = _started(client, db)
    answer = error_answer(sent, "208")
    assert answer["IdSesionSence"]

    stranger.post("/s/r", data=answer)  # even on the success URL: GlosaError decides

    assert db.session.execute(select(Attempt.status)).scalar_one() == "failed"
    assert _count(db, SenceSession) == 0


def test_an_error_with_blank_echoed_fields_is_accepted(client, stranger, db):
    _, _, sent = _started(client, db)
    answer = {"IdSesionAlumno": sent["IdSesionAlumno"], "GlosaError": "200"}

    stranger.post("/s/e", data=answer)

    assert db.session.execute(select(Attempt.status)).scalar_one() == "failed"


def test_a_failed_login_can_be_retried_at_once(client, stranger, db):
    course, _, sent = _started(client, db)
    stranger.post("/s/e", data=error_answer(sent, "210"))

    again = start(client, course)
    stranger.post("/s/r", data=success_answer(again))

    assert _count(db, SenceSession) == 1
    assert [a.status for a in db.session.execute(select(Attempt).order_by(Attempt.id)).scalars()] == [
        "failed", "succeeded"]


def test_main_window_answer_redirects_to_the_course_with_a_message(client, stranger, db):
    course = sence_course()
    signed_in_participant(client, course)
    sent = start(client, course, via_popup=False)

    response = stranger.post("/s/r", data=success_answer(sent))

    assert response.status_code == 303
    assert "Set-Cookie" not in response.headers
    landing = client.get(response.headers["Location"])
    assert landing.status_code == 303 and landing.headers["Location"].endswith(f"/cursos/{course.id}")
    page = client.get(landing.headers["Location"]).get_data(as_text=True)
    assert "Sesión SENCE iniciada: tu asistencia quedó registrada." in page
    assert "Cerrar sesión SENCE" in page


def test_someone_elses_result_page_is_404(client, stranger, db):
    course = sence_course()
    signed_in_participant(client, course)
    start(client, course, via_popup=False)
    attempt_id = db.session.execute(select(Attempt.id)).scalar_one()
    login(stranger, participant_in(course))
    assert stranger.get(f"/sence/intentos/{attempt_id}").status_code == 404


def test_popup_answer_page_tells_the_opener_with_our_origin(client, stranger, db):
    course, _, sent = _started(client, db)

    html = stranger.post("/s/r", data=success_answer(sent)).get_data(as_text=True)

    assert 'data-target-origin="http://localhost"' in html
    assert f'data-course="{course.id}"' in html
    assert "Volver al curso" in html and "js/sence.js" in html
    assert "<script>" not in html and "onclick" not in html


def test_logout_success_closes_the_session(client, stranger, db):
    course, _, sent = _started(client, db)
    stranger.post("/s/r", data=success_answer(sent))
    logout = start(client, course, "cerrar")

    response = stranger.post("/s/r", data=success_answer(logout, FechaHora="2030-01-01 12:00:00"))

    assert 'data-status="closed"' in response.get_data(as_text=True)
    session = db.session.execute(select(SenceSession)).scalar_one()
    assert session.status == "closed" and session.closed_raw == "2030-01-01 12:00:00"
    assert session.sence_closed_at.isoformat() == "2030-01-01T15:00:00+00:00"
    assert abs((session.closed_at - minutes_ago(0)).total_seconds()) < 60 and session.time_flagged


def test_a_failed_logout_can_be_retried(client, stranger, db):
    course, _, sent = _started(client, db)
    stranger.post("/s/r", data=success_answer(sent))
    stranger.post("/s/e", data=error_answer(start(client, course, "cerrar"), "300"))
    session = db.session.execute(select(SenceSession)).scalar_one()
    assert (session.status, session.close_error_codes) == ("close_failed", "300")
    assert session.is_live()

    retry = start(client, course, "cerrar")
    stranger.post("/s/r", data=success_answer(retry))

    db.session.refresh(session)
    assert session.status == "closed" and session.close_error_codes == ""


def test_the_login_answer_replayed_during_logout_changes_nothing(client, stranger, db):
    course, _, sent = _started(client, db)
    login_answer = success_answer(sent)
    stranger.post("/s/r", data=login_answer)
    start(client, course, "cerrar")

    stranger.post("/s/r", data=login_answer)

    assert db.session.execute(select(SenceSession.status)).scalar_one() == "open"
    assert db.session.execute(select(Attempt.status).where(Attempt.kind == "logout")).scalar_one() == "pending"


def test_signals_fire_inside_the_transaction(client, stranger, db):
    received = []

    def record(name):
        return lambda sender, **kw: received.append((name, type(sender).__name__, sender.id is not None))

    handlers = {"opened": record("opened"), "closed": record("closed"), "failed": record("failed")}
    signals.session_opened.connect(handlers["opened"])
    signals.session_closed.connect(handlers["closed"])
    signals.attempt_failed.connect(handlers["failed"])
    try:
        course, _, sent = _started(client, db)
        stranger.post("/s/r", data=success_answer(sent))
        stranger.post("/s/e", data=error_answer(start(client, course, "cerrar"), "305"))
        stranger.post("/s/r", data=success_answer(start(client, course, "cerrar")))
    finally:
        signals.session_opened.disconnect(handlers["opened"])
        signals.session_closed.disconnect(handlers["closed"])
        signals.attempt_failed.disconnect(handlers["failed"])

    assert received == [("opened", "SenceSession", True), ("failed", "Attempt", True),
                        ("closed", "SenceSession", True)]
