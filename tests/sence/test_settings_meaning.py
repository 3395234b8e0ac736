"""Settings that mean what they say (issue 9, item 9): limit ≤ 180 min, upper-case tokens, GlosaError 0,
no simulator in production, and no "Exigir cierre de sesión SENCE" switch that did nothing."""

from datetime import timedelta

import pytest

from app.admin import service as admin_service
from app.extensions import db as _db
from app.reports.service import attendance
from app.sence import protocol, tokens
from app.sence.models import CourseSence, SenceToken
from app.timeutil import utcnow
from tests.factories import enroll, login, make_course, make_user
from tests.notify.helpers import open_session
from tests.sence.builders import COD_SENCE, CODIGO_CURSO, make_otec, sence_course, signed_in_participant


@pytest.fixture
def admin(client, db):
    user = make_user("admin")
    login(client, user)
    return user


@pytest.fixture
def production(app):
    """This Pizarra installation runs with PIZARRA_ENV=production."""
    app.config["ENV"] = "production"
    yield app
    app.config["ENV"] = "testing"


def _form(otec_id, **overrides):
    data = {"otec_id": otec_id, "linea": "3", "cod_sence": COD_SENCE, "codigo_curso": CODIGO_CURSO,
            "environment": "simulator", "login_required": "y", "session_limit_minutes": "180",
            "modality": "asincronico", "connectivity_target": "", "alert_emails": ""}
    data.update(overrides)
    return data


def test_the_session_limit_is_at_most_180_minutes(client, admin, db):
    course, otec = make_course(), make_otec()
    refused = client.post(f"/sence/cursos/{course.id}/configuracion", data=_form(otec.id, session_limit_minutes="181"))
    assert refused.status_code == 422
    assert "Entre 10 y 180 minutos." in refused.get_data(as_text=True)
    assert db.session.get(CourseSence, course.id).session_limit_minutes == 180  # unchanged

    accepted = client.post(f"/sence/cursos/{course.id}/configuracion", data=_form(otec.id, session_limit_minutes="90"))
    assert accepted.status_code == 303
    assert db.session.get(CourseSence, course.id).session_limit_minutes == 90


def test_reports_count_at_most_three_hours_of_a_session_opened_under_an_older_longer_limit(db):
    course = make_course(hours=10, sence={"environment": "simulator"})
    user = make_user()
    enroll(course, user)
    start = utcnow() - timedelta(days=1)
    open_session(user, course, started_at=start, limit_minutes=600, status="closed",
                 closed_at=start + timedelta(hours=5))

    [row] = attendance(course).rows

    assert (row.sessions_counted, row.hours_counted, row.connectivity) == (1, 3.0, 30.0)


def test_the_require_logout_switch_is_gone_and_the_page_says_why(client, admin, db):
    course = sence_course()
    html = client.get(f"/sence/cursos/{course.id}/configuracion").get_data(as_text=True)
    assert "Exigir cierre de sesión SENCE" not in html
    assert "El cierre de sesión SENCE siempre se exige" in html
    assert not hasattr(CourseSence, "logout_required")


def test_a_token_is_stored_upper_case(client, admin, db):
    otec = make_otec(token=None)
    response = client.post(f"/sence/otecs/{otec.id}/tokens",
                           data={"token-token": " 8fcf0d5a-1b2c-4d3e-9f40-a1b2c3d44f8f ", "token-label": "x"})
    assert response.status_code == 303
    row = db.session.query(SenceToken).one()
    assert tokens.decrypt(row.token_encrypted) == "8FCF0D5A-1B2C-4D3E-9F40-A1B2C3D44F8F"
    assert row.hint == tokens.mask("8FCF0D5A-1B2C-4D3E-9F40-A1B2C3D44F8F")


@pytest.mark.parametrize(("glosa", "codes"), [("0", []), ("00", []), ("0;211", ["211"]), ("211", ["211"])])
def test_glosa_error_zero_is_not_an_error(glosa, codes):
    answer = protocol.parse_answer({"IdSesionAlumno": "x", "IdSesionSence": "1", "GlosaError": glosa})
    assert answer.error_codes == codes
    assert answer.is_error is bool(codes)


def test_in_production_a_course_cannot_be_left_on_the_simulator(client, admin, db, production):
    course = sence_course(environment="test")
    response = client.post(f"/sence/cursos/{course.id}/configuracion",
                           data=_form(course.sence.otec_id, environment="simulator"))
    assert response.status_code == 422
    assert "el simulador no registra asistencia" in response.get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.get(CourseSence, course.id).environment == "test"


def test_in_production_new_courses_start_in_senses_test_environment(db, production):
    course = admin_service.create_course({"title": "Nuevo", "description": "", "hours": 8}, [])
    assert course.sence.environment == "test"


def test_outside_production_new_courses_start_on_the_simulator(db):
    course = admin_service.create_course({"title": "Nuevo", "description": "", "hours": 8}, [])
    assert course.sence.environment == "simulator"


def test_in_production_a_course_left_on_the_simulator_sends_nobody_there(client, db, production):
    course = sence_course(environment="simulator")
    signed_in_participant(client, course)
    response = client.post(f"/sence/cursos/{course.id}/iniciar", data={"via_popup": "0"})
    assert response.status_code == 409
    assert "aún no está bien configurado" in response.get_data(as_text=True)
