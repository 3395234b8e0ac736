"""SENCE as manual v1.1.6 behaves: late answers, logout bound to its login, one live session, our clock, evidence."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.courses.timer import timer_state
from app.extensions import db as _db
from app.notify.service import sweep
from app.reports.service import attendance
from app.sence import protocol
from app.sence.models import Attempt, Exchange, SenceSession
from app.timeutil import utcnow
from tests.factories import login, make_user, open_session
from tests.sence.builders import (
    COD_SENCE,
    CODIGO_CURSO,
    OTEC_RUT,
    TOKEN,
    form_action,
    form_fields,
    minutes_ago,
    participant_in,
    sence_course,
    signed_in_participant,
    start,
    success_answer,
)


@pytest.fixture
def stranger(app):
    return app.test_client()


def _last_in(db) -> Exchange:
    return db.session.execute(
        select(Exchange).where(Exchange.direction == "in").order_by(Exchange.id.desc()).limit(1)).scalar_one()


def _sessions(db, user) -> list[SenceSession]:
    db.session.expire_all()
    return db.session.execute(
        select(SenceSession).where(SenceSession.user_id == user.id).order_by(SenceSession.id)).scalars().all()


def _backdate(db, sent, minutes):
    attempt = db.session.execute(select(Attempt).where(Attempt.id_sesion_alumno == sent["IdSesionAlumno"])
                                 ).scalar_one()
    attempt.created_at = minutes_ago(minutes)
    attempt.answerable_until = attempt.created_at + timedelta(minutes=180)
    db.session.commit()


# --- 2. Late answers ---------------------------------------------------------------------------------------


def test_a_success_two_hours_late_opens_the_session_once_while_a_newer_attempt_waits(client, stranger, db):
    course = sence_course()
    user = signed_in_participant(client, course)
    late = start(client, course)
    _backdate(db, late, 125)  # the participant stayed on ClaveÚnica's page
    retry = start(client, course)  # meanwhile they pressed the button again

    answer = success_answer(late)
    first = stranger.post("/s/r", data=answer)
    again = stranger.post("/s/r", data=answer)  # the same answer delivered twice

    assert "Sesión SENCE iniciada" in first.get_data(as_text=True)
    assert again.status_code == 200 and _last_in(db).outcome == "duplicate"
    [session] = _sessions(db, user)
    assert session.status == "open" and session.is_live()
    assert session.expires_at - session.started_at == timedelta(minutes=180)  # timed from the arrival
    page = client.get(f"/cursos/{course.id}").get_data(as_text=True)
    assert "Cerrar sesión SENCE" in page and "Iniciar sesión SENCE" not in page
    pending = db.session.execute(select(Attempt).where(Attempt.id_sesion_alumno == retry["IdSesionAlumno"])
                                 ).scalar_one()
    assert pending.status == "pending"


def test_an_answer_after_the_session_limit_is_refused(client, stranger, db):
    course = sence_course()
    user = signed_in_participant(client, course)
    sent = start(client, course)
    _backdate(db, sent, 181)

    response = stranger.post("/s/r", data=success_answer(sent))

    assert response.status_code == 409 and _last_in(db).outcome == "refused:too_old"
    assert _sessions(db, user) == []


# --- 3. Logout bound to the session ------------------------------------------------------------------------


def test_logout_goes_where_the_login_went_even_after_the_course_moved_to_production(client, stranger, db):
    course = sence_course(environment="test")
    user = signed_in_participant(client, course)
    login = start(client, course)
    stranger.post("/s/r", data=success_answer(login, IdSesionSence="SENCE-ABC-123"))
    settings = course.sence
    settings.environment, settings.cod_sence, settings.codigo_curso = "production", "9999999999", "FT-OTRO-0009"
    db.session.commit()

    response = client.post(f"/sence/cursos/{course.id}/cerrar", data={"via_popup": "1"})

    html = response.get_data(as_text=True)
    assert form_action(html) == "https://sistemas.sence.cl/rcetest/Registro/CerrarSesion"
    sent = form_fields(html)
    assert (sent["CodSence"], sent["CodigoCurso"], sent["RutOtec"], sent["Token"]) == (
        COD_SENCE, CODIGO_CURSO, OTEC_RUT, TOKEN)
    assert (sent["RunAlumno"], sent["LineaCapacitacion"]) == (user.run, "3")
    assert sent["IdSesionAlumno"] == login["IdSesionAlumno"] and sent["IdSesionSence"] == "SENCE-ABC-123"
    logout = db.session.execute(select(Attempt).where(Attempt.kind == "logout")).scalar_one()
    assert logout.environment == "test" and logout.base_url == "https://sistemas.sence.cl/rcetest"
    out = db.session.execute(select(Exchange).where(Exchange.attempt_id == logout.id)).scalar_one()
    assert TOKEN not in str(out.fields) and TOKEN.lower() not in str(out.fields).lower()


# --- 4. One live session per participant and course ---------------------------------------------------------


def test_a_second_success_while_one_is_open_is_kept_but_never_counts(client, stranger, db):
    course = sence_course()
    user = signed_in_participant(client, course)
    first, second = start(client, course), start(client, course)  # double click, or popup plus retry

    stranger.post("/s/r", data=success_answer(first, IdSesionSence="S-1"))
    response = stranger.post("/s/r", data=success_answer(second, IdSesionSence="S-2"))

    assert response.status_code == 200
    assert "sigue valiendo esa, y es la que debes cerrar" in response.get_data(as_text=True)
    assert "superseded" in _last_in(db).flags
    standing, duplicate = _sessions(db, user)
    assert (standing.id_sesion_sence, standing.status) == ("S-1", "open")
    assert (duplicate.id_sesion_sence, duplicate.status) == ("S-2", "superseded") and not duplicate.is_live()
    logout = form_fields(client.post(f"/sence/cursos/{course.id}/cerrar", data={"via_popup": "1"})
                         .get_data(as_text=True))
    assert logout["IdSesionSence"] == "S-1"  # what Pizarra shows open is what it closes
    stranger.post("/s/r", data=success_answer(logout))
    row = attendance(course).rows[0]
    assert row.sessions_counted == 1 and not row.open_now


def test_the_database_refuses_two_live_sessions_for_one_participant_and_course(db):
    course = sence_course()
    user = participant_in(course)
    open_session(user, course)
    with pytest.raises(IntegrityError):
        open_session(user, course)
    _db.session.rollback()


def test_overlapping_counted_sessions_count_their_overlap_once(db):
    course = sence_course(environment="simulator")
    course.hours = 10
    user = participant_in(course)
    a = open_session(user, course, started_minutes_ago=300, status="closed")
    b = open_session(user, course, started_minutes_ago=270, status="closed")
    a.closed_at = a.started_at + timedelta(hours=2)  # 300 -> 180 min ago
    b.closed_at = b.started_at + timedelta(hours=2)  # 270 -> 150 min ago: 30 min overlap
    db.session.commit()

    row = attendance(course).rows[0]

    assert row.sessions_counted == 2 and row.hours_counted == 2.5


# --- 5. Our clock times the session; FechaHora is evidence -------------------------------------------------


@pytest.mark.parametrize("forged", ["2099-12-31 23:59:00", "2h59m ago"])
def test_a_forged_fecha_hora_neither_extends_nor_shortens_nor_adds_hours(client, stranger, db, forged):
    course = sence_course()
    course.hours = 10
    db.session.commit()
    user = signed_in_participant(client, course)
    sent = start(client, course)
    fecha = forged if forged.startswith("2099") else protocol.format_fecha_hora(minutes_ago(179))

    stranger.post("/s/r", data=success_answer(sent, FechaHora=fecha))

    [session] = _sessions(db, user)
    arrival = utcnow()
    assert abs((session.started_at - arrival).total_seconds()) < 60
    assert session.expires_at == session.started_at + timedelta(minutes=180)
    assert session.time_flagged and session.started_raw == fecha
    assert "clock" in _last_in(db).flags
    state = timer_state(user.id, course.id)
    assert state.status == "open" and state.left > timedelta(minutes=179)
    logout = start(client, course, "cerrar")
    stranger.post("/s/r", data=success_answer(logout, FechaHora="2099-12-31 23:59:59"))
    [session] = _sessions(db, user)
    assert session.status == "closed" and session.closed_at - session.started_at < timedelta(minutes=1)
    row = attendance(course).rows[0]
    assert row.hours_counted < 0.02 and "hora SENCE discrepante" in row.flags


def test_a_fecha_hora_within_the_tolerance_is_not_flagged(client, stranger, db, app):
    course = sence_course()
    user = signed_in_participant(client, course)
    sent = start(client, course)

    stranger.post("/s/r", data=success_answer(sent, FechaHora=protocol.format_fecha_hora(minutes_ago(9))))

    [session] = _sessions(db, user)
    assert not session.time_flagged and "clock" not in _last_in(db).flags
    assert session.sence_started_at is not None


def test_the_tolerance_comes_from_the_configuration(client, stranger, db, app):
    app.config["SENCE_CLOCK_TOLERANCE_MINUTES"] = 2
    course = sence_course()
    user = signed_in_participant(client, course)
    sent = start(client, course)

    stranger.post("/s/r", data=success_answer(sent, FechaHora=protocol.format_fecha_hora(minutes_ago(5))))

    assert _sessions(db, user)[0].time_flagged


# --- 6. Origin and Referer ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("environment", "origin", "flagged"), [
    ("test", "https://sistemas.sence.cl", False),
    ("test", "null", False),
    ("simulator", "http://127.0.0.1:5001", False),
    ("test", "https://evil.example", True),
    ("test", "http://127.0.0.1:5001", True),  # the simulator's origin is not SENCE's for a test course
    ("test", "", True),
])
def test_the_callback_origin_is_recorded_and_a_strange_one_flagged_not_refused(
        client, stranger, db, environment, origin, flagged):
    course = sence_course(environment=environment)
    user = signed_in_participant(client, course)
    sent = start(client, course)
    headers = {"Referer": "https://sistemas.sence.cl/rcetest/Registro/IniciarSesion"}
    if origin:
        headers["Origin"] = origin

    stranger.post("/s/r", data=success_answer(sent), headers=headers)

    exchange = _last_in(db)
    assert exchange.outcome == "accepted" and _sessions(db, user)[0].is_live()
    assert exchange.origin == origin and exchange.referer == headers["Referer"]
    assert ("origin" in exchange.flags) is flagged
    assert ("origen no verificado" in attendance(course).rows[0].flags) is flagged


# --- 7. Expired sessions get a terminal state ----------------------------------------------------------------


def test_after_an_expired_session_a_new_one_opened_and_closed_leaves_no_expired_banner(client, stranger, db):
    course = sence_course()
    user = signed_in_participant(client, course)
    old = open_session(user, course, started_minutes_ago=200)  # left open: expired 20 minutes ago
    assert timer_state(user.id, course.id).status == "expired"

    login = start(client, course)
    stranger.post("/s/r", data=success_answer(login))
    logout = start(client, course, "cerrar")
    stranger.post("/s/r", data=success_answer(logout))

    db.session.expire_all()
    assert db.session.get(SenceSession, old.id).status == "expired"
    assert timer_state(user.id, course.id).status == "locked"
    page = client.get(f"/cursos/{course.id}").get_data(as_text=True)
    assert "Sesión expirada" not in page and "Iniciar sesión SENCE" in page


def test_the_sweep_marks_expired_sessions_and_the_notice_stays(client, db):
    course = sence_course()
    user = signed_in_participant(client, course)
    old = open_session(user, course, started_minutes_ago=200)
    other = participant_in(course)
    live = open_session(other, course, started_minutes_ago=10)

    sweep()

    db.session.expire_all()
    assert db.session.get(SenceSession, old.id).status == "expired"
    assert db.session.get(SenceSession, live.id).status == "open"
    assert timer_state(user.id, course.id).status == "expired"  # still pointed out to the participant


def test_staff_see_both_flags_and_senses_time_beside_ours(app, client, stranger, db):
    course = sence_course(environment="test")
    user = signed_in_participant(client, course)
    sent = start(client, course)
    stranger.post("/s/r", data=success_answer(sent, FechaHora="2099-01-01 10:00:00"),
                  headers={"Origin": "https://evil.example"})
    admin = make_user("admin")
    staff = app.test_client()
    login(staff, admin)

    report = staff.get(f"/reportes/cursos/{course.id}/asistencia").get_data(as_text=True)
    detail = staff.get(f"/reportes/cursos/{course.id}/participantes/{user.id}").get_data(as_text=True)
    log = staff.get(f"/sence/cursos/{course.id}/registro").get_data(as_text=True)

    assert "hora SENCE discrepante" in report and "origen no verificado" in report
    assert "2099-01-01 10:00:00" in detail and "hora SENCE discrepante" in detail
    assert "origen no verificado" in log and "hora SENCE discrepante" in log and "SENCE: 2099-01-01 10:00:00" in log
