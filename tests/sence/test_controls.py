"""The SENCE box on the course page: the right button, and what to do after a failure."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.sence import protocol
from app.sence.models import Attempt
from app.timeutil import utcnow
from tests.factories import enroll, login, make_group, make_user
from tests.sence.builders import (
    error_answer,
    make_otec,
    participant_in,
    sence_course,
    signed_in_participant,
    start,
    success_answer,
)


def _course_page(client, course) -> str:
    response = client.get(f"/cursos/{course.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_gated_participant_sees_the_start_button(client, db):
    course = sence_course()
    signed_in_participant(client, course)

    html = _course_page(client, course)

    assert "Iniciar sesión SENCE" in html and "Cerrar sesión SENCE" not in html
    assert f'action="/sence/cursos/{course.id}/iniciar" data-sence-popup' in html
    assert 'name="via_popup" value="0"' in html  # without JavaScript: the main window
    assert f'hx-get="/sence/cursos/{course.id}/controles"' in html and 'hx-trigger="sence:changed from:body"' in html


def test_with_an_open_session_the_close_button_shows(client, db, app):
    course = sence_course()
    signed_in_participant(client, course)
    app.test_client().post("/s/r", data=success_answer(start(client, course)))

    html = client.get(f"/sence/cursos/{course.id}/controles", headers={"HX-Request": "true"}).get_data(as_text=True)

    assert "Cerrar sesión SENCE" in html and "Iniciar sesión SENCE" not in html
    assert "<html" not in html
    page = client.get(f"/cursos/{course.id}").get_data(as_text=True)
    assert page.count("Sesión SENCE activa") == 1 and "Sesión SENCE abierta" not in page  # one SENCE box


def test_after_a_failure_the_guidance_shows_and_retry_is_offered(client, db, app):
    course = sence_course()
    signed_in_participant(client, course)
    app.test_client().post("/s/e", data=error_answer(start(client, course), "211;204"))

    html = _course_page(client, course)

    assert "El inicio de sesión SENCE no se registró" in html
    assert "indícale el código 211" in html and "indícale el código 204" in html
    assert "Iniciar sesión SENCE" in html
    assert "cus.sence.cl" not in html  # OTEC errors: no password help


def test_a_password_failure_offers_the_help_links(client, db, app):
    course = sence_course()
    signed_in_participant(client, course)
    app.test_client().post("/s/e", data=error_answer(start(client, course), "100"))

    html = _course_page(client, course)

    assert protocol.ERRORS[100].participant_message in html
    for _, url in protocol.HELP_LINKS:
        assert url in html


def test_a_failed_close_offers_the_retry(client, db, app):
    course = sence_course()
    signed_in_participant(client, course)
    app.test_client().post("/s/r", data=success_answer(start(client, course)))
    app.test_client().post("/s/e", data=error_answer(start(client, course, "cerrar"), "313"))

    html = _course_page(client, course)

    assert "El cierre de sesión SENCE no se registró" in html and "Cerrar sesión SENCE" in html


def test_staff_and_exempt_groups_see_no_sence_box(client, db):
    course = sence_course()
    exempt = make_group(course, "Auditores")
    course.sence.exempt_group_ids = [exempt.id]
    db.session.commit()
    auditor = make_user("participant")
    enroll(course, auditor, exempt)
    login(client, auditor)
    assert "Iniciar sesión SENCE" not in _course_page(client, course)

    instructor = make_user("instructor")
    course.instructors = [instructor]
    db.session.commit()
    login(client, instructor)
    assert "Iniciar sesión SENCE" not in _course_page(client, course)


def test_a_badly_configured_course_says_so_instead_of_a_button(client, db):
    course = sence_course(otec=make_otec(token=None))
    signed_in_participant(client, course)

    html = _course_page(client, course)

    assert "aún no está disponible" in html and "Iniciar sesión SENCE" not in html


def test_the_fragment_without_htmx_goes_to_the_course_page(client, db):
    course = sence_course()
    signed_in_participant(client, course)

    response = client.get(f"/sence/cursos/{course.id}/controles")

    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cursos/{course.id}")


def test_the_fragment_is_only_for_people_in_the_course(client, db):
    otec = make_otec()
    course = sence_course(otec)
    login(client, participant_in(sence_course(otec)))
    assert client.get(f"/sence/cursos/{course.id}/controles", headers={"HX-Request": "true"}).status_code == 403


@pytest.mark.parametrize(("glosa", "advice", "retry"), [
    ("311", "Puedes intentarlo de nuevo de inmediato.", True),
    ("312", "Puedes intentarlo de nuevo de inmediato.", True),
    ("208", "Reintentar no lo resolverá: tu OTEC debe corregirlo.", False),
    ("211;204", "Reintentar no lo resolverá: tu OTEC debe corregirlo.", False),
    ("300", "El problema es de SENCE, no tuyo: espera unos minutos", False),
    ("311;301", "Reintentar no lo resolverá: tu OTEC debe corregirlo.", False),
])
def test_retrying_is_suggested_only_when_it_can_help(client, db, app, glosa, advice, retry):
    course = sence_course()
    signed_in_participant(client, course)
    popup = app.test_client().post("/s/e", data=error_answer(start(client, course), glosa)).get_data(as_text=True)
    page = _course_page(client, course)

    for html in (popup, page):
        assert advice in html
        assert ("Puedes intentarlo de nuevo" in html) is retry


def test_the_main_window_path_flashes_the_same_advice(client, db, app):
    course = sence_course()
    signed_in_participant(client, course)
    answer = app.test_client().post("/s/e", data=error_answer(start(client, course, via_popup=False), "208"))

    page = client.get(answer.headers["Location"], follow_redirects=True).get_data(as_text=True)

    assert "SENCE no registró la operación. Reintentar no lo resolverá" in page
    assert "inténtalo de nuevo" not in page


def test_a_pending_trip_gets_advice_only_after_a_few_minutes(client, db):
    course = sence_course()
    signed_in_participant(client, course)
    start(client, course)

    fresh = _course_page(client, course)
    attempt = db.session.execute(select(Attempt)).scalar_one()
    attempt.created_at = utcnow() - timedelta(minutes=4)
    db.session.commit()
    later = _course_page(client, course)

    assert "¿SENCE aún no responde?" in fresh and "sence-waiting-later" in fresh  # shown by CSS after 3 minutes
    assert "¿SENCE aún no responde?" in later and "sence-waiting-later" not in later
