"""OTEC staff settings: OTECs, encrypted tokens, and course codes refused the way SENCE would refuse them."""

import pytest
from sqlalchemy import select

from app.sence import protocol
from app.sence.models import CourseSence, Exchange, Otec, SenceToken
from tests.factories import login, make_course, make_group, make_user
from tests.sence.builders import (
    COD_SENCE,
    CODIGO_CURSO,
    TOKEN,
    make_otec,
    sence_course,
    signed_in_participant,
    start,
    success_answer,
)


@pytest.fixture
def admin(client, db):
    user = make_user("admin")
    login(client, user)
    return user


def _settings_form(otec_id, **overrides):
    data = {"otec_id": otec_id, "linea": "3", "cod_sence": COD_SENCE, "codigo_curso": CODIGO_CURSO,
            "environment": "simulator", "login_required": "y",
            "session_limit_minutes": "180", "modality": "asincronico", "connectivity_target": "",
            "alert_emails": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_an_otec_needs_a_valid_rut(client, admin, db):
    response = client.post("/sence/otecs", data={"name": "OTEC Sur", "rut": "76.123.456-1"})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "El RUT del OTEC no es válido" in html and "error 209" in html
    assert db.session.execute(select(Otec)).first() is None

    response = client.post("/sence/otecs", data={"name": "OTEC Sur", "rut": "76.123.456-0"})
    assert response.status_code == 303
    assert db.session.execute(select(Otec.rut)).scalar_one() == "76123456-0"


def test_tokens_are_encrypted_and_only_shown_masked(client, admin, db):
    otec = make_otec(token=None)

    response = client.post(f"/sence/otecs/{otec.id}/tokens", data={"token-token": TOKEN, "token-label": "2025"})

    assert response.status_code == 303
    row = db.session.execute(select(SenceToken)).scalar_one()
    assert row.hint == "8FCF…4F8F"
    assert TOKEN not in row.token_encrypted and TOKEN.lower() not in row.token_encrypted.lower()
    page = client.get(f"/sence/otecs/{otec.id}").get_data(as_text=True)
    assert "8FCF…4F8F" in page and TOKEN not in page and "activo" in page


def test_a_malformed_token_is_refused_and_not_echoed(client, admin, db):
    otec = make_otec(token=None)
    bad = "8FCF0D5A-1B2C-4D3E-9F40-A1B2C3D44F8"

    response = client.post(f"/sence/otecs/{otec.id}/tokens", data={"token-token": bad})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "UUID de 36 caracteres" in html and "error 303" in html and bad not in html
    assert db.session.execute(select(SenceToken)).first() is None


def test_the_same_token_twice_is_refused(client, admin, db):
    otec = make_otec()

    response = client.post(f"/sence/otecs/{otec.id}/tokens", data={"token-token": TOKEN.lower()})

    assert response.status_code == 422
    assert "ya está registrado" in response.get_data(as_text=True)


def test_revoking_a_token_keeps_history_and_another_is_used(client, admin, db):
    course = sence_course()
    token = db.session.execute(select(SenceToken)).scalar_one()
    client.post(f"/sence/otecs/{course.sence.otec_id}/tokens",
                data={"token-token": "11111111-2222-4333-8444-555555555555"})

    response = client.post(f"/sence/otecs/{course.sence.otec_id}/tokens/{token.id}/revocar")

    assert response.status_code == 303
    db.session.refresh(token)
    assert token.revoked_at is not None
    assert "revocado" in client.get(f"/sence/otecs/{course.sence.otec_id}").get_data(as_text=True)
    from app.sence.service import usable_token

    assert usable_token(course.sence.otec_id).hint == "1111…5555"


@pytest.mark.parametrize("fields,message,code", [
    ({"cod_sence": "12345"}, "exactamente 10 caracteres", 204),
    ({"codigo_curso": "ABC12"}, "entre 7 y 50 caracteres", 205),
    ({"linea": "1"}, "debe ir en blanco", 204),
    ({"linea": "4"}, "La línea de capacitación debe ser 1, 3 o 6", 206),
    ({"session_limit_minutes": "tres horas"}, "No es un valor entero válido", None),
    ({"otec_id": "999"}, "Opción inválida", None),
    ({"environment": "production", "cod_sence": "-1", "confirm_production": "y"}, "sólo se acepta", 204),
])
def test_course_codes_sence_would_refuse_are_refused(client, admin, db, fields, message, code):
    course = make_course()
    otec = make_otec()

    data = _settings_form(otec.id)
    data.update(fields)
    response = client.post(f"/sence/cursos/{course.id}/configuracion", data=data)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    if code:
        assert f"error {code}" in html and protocol.ERRORS[code].manual in html
    db.session.refresh(course.sence)
    assert course.sence.otec_id is None and course.sence.cod_sence == ""


def test_line_1_and_placeholder_codes_in_test_are_accepted(client, admin, db):
    course = make_course()
    otec = make_otec()

    response = client.post(f"/sence/cursos/{course.id}/configuracion",
                           data=_settings_form(otec.id, linea="1", cod_sence="", codigo_curso="-1",
                                               environment="test"))

    assert response.status_code == 303
    db.session.refresh(course.sence)
    assert (course.sence.linea, course.sence.cod_sence, course.sence.codigo_curso) == (1, "", "-1")


def test_production_needs_the_explicit_confirmation(client, admin, db):
    course = make_course()
    otec = make_otec()

    refused = client.post(f"/sence/cursos/{course.id}/configuracion",
                          data=_settings_form(otec.id, environment="production"))

    assert refused.status_code == 422
    assert "SENCE no puede borrar" in refused.get_data(as_text=True)
    db.session.refresh(course.sence)
    assert course.sence.environment == "simulator"

    accepted = client.post(f"/sence/cursos/{course.id}/configuracion",
                           data=_settings_form(otec.id, environment="production", confirm_production="y"))
    assert accepted.status_code == 303
    db.session.refresh(course.sence)
    assert course.sence.environment == "production"
    again = client.post(f"/sence/cursos/{course.id}/configuracion",
                        data=_settings_form(otec.id, environment="production", session_limit_minutes="150"))
    assert again.status_code == 303  # already in production: no second confirmation


def test_settings_are_saved_with_exempt_groups_and_defaults(client, admin, db):
    course = make_course()
    group = make_group(course, "Auditores")
    other_course_group = make_group(make_course(), "Ajeno")
    otec = make_otec()

    response = client.post(f"/sence/cursos/{course.id}/configuracion", data=_settings_form(
        otec.id, modality="sincronico", exempt_group_ids=[str(group.id)], alert_emails="a@otec.cl; b@otec.cl",
        session_limit_minutes="120"))

    assert response.status_code == 303
    settings = db.session.get(CourseSence, course.id)
    assert settings.exempt_group_ids == [group.id] and other_course_group.id not in settings.exempt_group_ids
    assert settings.connectivity_target == 75 and settings.modality == "sincronico"
    assert settings.alert_email_list == ["a@otec.cl", "b@otec.cl"]
    assert settings.session_limit_minutes == 120


def test_a_bad_alert_address_is_refused(client, admin, db):
    course = make_course()

    response = client.post(f"/sence/cursos/{course.id}/configuracion",
                           data=_settings_form(make_otec().id, alert_emails="a@otec.cl, no-es-correo"))

    assert response.status_code == 422
    assert "No parece un correo: no-es-correo" in response.get_data(as_text=True)


def test_return_urls_over_100_characters_are_refused_at_configuration(client, admin, db, app):
    course = make_course()
    otec = make_otec()
    app.config["PUBLIC_BASE_URL"] = "https://" + "muy-largo." * 10 + "otec.cl"
    try:
        page = client.get(f"/sence/cursos/{course.id}/configuracion").get_data(as_text=True)
        response = client.post(f"/sence/cursos/{course.id}/configuracion", data=_settings_form(otec.id))
        otecs_page = client.get("/sence/otecs").get_data(as_text=True)
    finally:
        app.config["PUBLIC_BASE_URL"] = "http://localhost"

    assert "SENCE acepta como máximo 100" in page and "Acorte PUBLIC_BASE_URL" in page
    assert response.status_code == 422
    assert "SENCE acepta como máximo 100" in otecs_page
    db.session.refresh(course.sence)
    assert course.sence.otec_id is None


def test_settings_pages_are_for_admins_only(client, db):
    course = make_course()
    otec = make_otec()
    login(client, make_user("instructor"))
    for url in ("/sence/otecs", f"/sence/otecs/{otec.id}", f"/sence/cursos/{course.id}/configuracion",
                f"/sence/cursos/{course.id}/registro"):
        assert client.get(url).status_code == 403
    assert client.post(f"/sence/otecs/{otec.id}/tokens", data={"token-token": TOKEN}).status_code == 403
    anonymous = client.application.test_client()
    assert anonymous.get("/sence/otecs").status_code == 302


def test_unknown_ids_are_404(client, admin, db):
    assert client.get("/sence/otecs/999").status_code == 404
    assert client.get("/sence/cursos/999/configuracion").status_code == 404
    assert client.post("/sence/otecs/999/tokens/1/revocar").status_code == 404


def test_the_token_appears_in_no_page_but_the_auto_submit_form(client, db, app):
    course = sence_course()
    signed_in_participant(client, course)
    sent = start(client, course)  # the one page that must hold it
    assert sent["Token"] == TOKEN
    app.test_client().post("/s/r", data=success_answer(sent))
    pages = [client.get(f"/cursos/{course.id}"), client.get(f"/sence/cursos/{course.id}/controles",
                                                             headers={"HX-Request": "true"})]
    admin_client = app.test_client()
    login(admin_client, make_user("admin"))
    for url in ("/sence/otecs", f"/sence/otecs/{course.sence.otec_id}", f"/sence/cursos/{course.id}/configuracion",
                f"/sence/cursos/{course.id}/registro"):
        pages.append(admin_client.get(url))

    for page in pages:
        assert page.status_code == 200
        assert TOKEN.lower() not in page.get_data(as_text=True).lower()
    for exchange in db.session.execute(select(Exchange)).scalars():
        assert TOKEN.lower() not in str(exchange.fields).lower()


def test_the_log_shows_attempts_sessions_and_technical_causes(client, db, app):
    course = sence_course()
    participant = signed_in_participant(client, course)
    failed = start(client, course)
    app.test_client().post("/s/e", data={**success_answer(failed), "GlosaError": "211;204"})
    app.test_client().post("/s/r", data=success_answer(start(client, course)))
    start(client, course, "cerrar")
    admin_client = app.test_client()
    login(admin_client, make_user("admin"))

    html = admin_client.get(f"/sence/cursos/{course.id}/registro").get_data(as_text=True)

    assert participant.full_name in html
    assert protocol.ERRORS[211].admin_message in html and protocol.ERRORS[204].admin_message in html
    assert "fallido" in html and "exitoso" in html and "en curso" in html and "abierta" in html
    assert "IniciarSesion" in html and "CerrarSesion" in html and "aceptado" in html and ">accepted<" not in html
