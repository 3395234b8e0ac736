"""Pressing «Iniciar/Cerrar sesión SENCE»: an attempt and an auto-submitting form with exactly the manual's fields."""

from sqlalchemy import select

from app.sence import protocol
from app.sence.models import Attempt, Exchange, SenceSession
from tests.factories import login, make_user
from tests.sence.builders import (
    COD_SENCE,
    CODIGO_CURSO,
    OTEC_RUT,
    TOKEN,
    form_action,
    form_fields,
    sence_course,
    signed_in_participant,
    start,
    success_answer,
)


def test_login_form_carries_exactly_the_manual_fields(client, db):
    course = sence_course()
    user = signed_in_participant(client, course)

    response = client.post(f"/sence/cursos/{course.id}/iniciar", data={"via_popup": "1"})

    html = response.get_data(as_text=True)
    assert "Continuar a SENCE" in html
    assert form_action(html) == "http://127.0.0.1:5001/rce/Registro/IniciarSesion"
    sent = form_fields(html)
    assert list(sent) == list(protocol.LOGIN_FIELDS)
    assert sent["RutOtec"] == OTEC_RUT and sent["Token"] == TOKEN
    assert sent["CodSence"] == COD_SENCE and sent["CodigoCurso"] == CODIGO_CURSO
    assert sent["LineaCapacitacion"] == "3" and sent["RunAlumno"] == user.run
    assert sent["UrlRetoma"] == "http://localhost/s/r" and sent["UrlError"] == "http://localhost/s/e"
    assert len(sent["IdSesionAlumno"]) >= 22  # >= 128 random bits, URL-safe
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_each_press_creates_a_pending_attempt_with_a_fresh_id(client, db):
    course = sence_course()
    user = signed_in_participant(client, course)

    first = start(client, course, via_popup=True)
    second = start(client, course, via_popup=False)

    attempts = db.session.execute(select(Attempt).order_by(Attempt.id)).scalars().all()
    assert [a.id_sesion_alumno for a in attempts] == [first["IdSesionAlumno"], second["IdSesionAlumno"]]
    assert first["IdSesionAlumno"] != second["IdSesionAlumno"]
    assert [(a.kind, a.status, a.via_popup, a.user_id) for a in attempts] == [
        ("login", "pending", True, user.id), ("login", "pending", False, user.id)]


def test_the_sent_request_is_logged_without_the_token(client, db):
    course = sence_course()
    signed_in_participant(client, course)

    sent = start(client, course)

    exchange = db.session.execute(select(Exchange)).scalar_one()
    assert exchange.direction == "out" and exchange.endpoint == "IniciarSesion" and exchange.outcome == "sent"
    assert exchange.fields["IdSesionAlumno"] == sent["IdSesionAlumno"]
    assert "Token" not in exchange.fields
    assert TOKEN not in str(exchange.fields) and TOKEN.lower() not in str(exchange.fields).lower()


def test_test_and_production_environments_post_to_sence(client, db, app):
    course = sence_course(environment="production")
    signed_in_participant(client, course)

    html = client.post(f"/sence/cursos/{course.id}/iniciar").get_data(as_text=True)

    assert form_action(html) == "https://sistemas.sence.cl/rce/Registro/IniciarSesion"


def test_logout_reuses_the_session_ids(client, db):
    course = sence_course()
    signed_in_participant(client, course)
    sent = start(client, course)
    app_client = client.application.test_client()
    app_client.post("/s/r", data=success_answer(sent))

    html = client.post(f"/sence/cursos/{course.id}/cerrar", data={"via_popup": "1"}).get_data(as_text=True)

    logout = form_fields(html)
    session = db.session.execute(select(SenceSession)).scalar_one()
    assert form_action(html).endswith("/rce/Registro/CerrarSesion")
    assert list(logout) == list(protocol.LOGOUT_FIELDS)
    assert logout["IdSesionAlumno"] == sent["IdSesionAlumno"] == session.id_sesion_alumno
    assert logout["IdSesionSence"] == session.id_sesion_sence == "48213579061234567890"
    attempt = db.session.execute(select(Attempt).where(Attempt.kind == "logout")).scalar_one()
    assert attempt.session_id == session.id and attempt.status == "pending"


def test_logout_without_an_open_session_is_refused_clearly(client, db):
    course = sence_course()
    signed_in_participant(client, course)

    response = client.post(f"/sence/cursos/{course.id}/cerrar")

    assert response.status_code == 409
    assert "No tienes una sesión SENCE abierta" in response.get_data(as_text=True)
    assert db.session.execute(select(Attempt)).first() is None


def test_a_second_login_while_a_session_is_open_is_refused(client, db):
    course = sence_course()
    signed_in_participant(client, course)
    client.application.test_client().post("/s/r", data=success_answer(start(client, course)))

    response = client.post(f"/sence/cursos/{course.id}/iniciar")

    assert response.status_code == 409
    assert "Ya tienes una sesión SENCE abierta" in response.get_data(as_text=True)


def test_a_course_without_token_sends_nobody_to_sence(client, db):
    from tests.sence.builders import make_otec

    course = sence_course(otec=make_otec(token=None))
    signed_in_participant(client, course)

    response = client.post(f"/sence/cursos/{course.id}/iniciar")

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Contacta a tu OTEC" in html and "Continuar a SENCE" not in html
    assert db.session.execute(select(Attempt)).first() is None


def test_staff_and_strangers_cannot_start(client, db):
    course = sence_course()
    login(client, make_user("admin"))
    assert client.post(f"/sence/cursos/{course.id}/iniciar").status_code == 403
    client.post("/salir")
    stranger = client.application.test_client()
    login(stranger, make_user("participant"))
    assert stranger.post(f"/sence/cursos/{course.id}/iniciar").status_code == 403
    assert client.application.test_client().post(f"/sence/cursos/{course.id}/iniciar").status_code == 302
    assert db.session.execute(select(Attempt)).first() is None


def test_start_needs_the_csrf_token(client, db, app):
    course = sence_course()
    signed_in_participant(client, course)

    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(f"/sence/cursos/{course.id}/iniciar")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False

    assert response.status_code == 400
    assert db.session.execute(select(Attempt)).first() is None


def test_unknown_course_is_404(client, db):
    course = sence_course()
    signed_in_participant(client, course)
    assert client.post("/sence/cursos/99999/iniciar").status_code == 404
