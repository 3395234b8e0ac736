"""The SENCE box on the course page: the right button, and what to do after a failure."""

from app.sence import protocol
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
    assert "Sesión SENCE abierta" in html and "<html" not in html


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
