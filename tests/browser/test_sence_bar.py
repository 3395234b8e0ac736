"""The SENCE bar on the course page: one compact component whose warning reaches the participant anywhere.

Sessions start in the past (tests/factories.open_session) to reach each state without waiting.
"""

from datetime import timedelta

import pytest

from app.extensions import db
from app.sence.models import Attempt
from app.timeutil import utcnow
from tests.browser.conftest import ARTIFACTS, no_horizontal_scroll, sign_in
from tests.courses.helpers import lesson_with
from tests.factories import PASSWORD, open_session
from tests.sence.builders import participant_in, sence_course

pytestmark = pytest.mark.browser

LONG_BODY = "\n\n".join(f"Párrafo {n}: una explicación larga de tablas dinámicas para leer con calma." * 3
                        for n in range(1, 40))


@pytest.fixture
def reading(db, live):
    course = sence_course(environment="simulator")
    course.title = "Excel intermedio"
    db.session.commit()
    lesson_with(course, "Tablas dinámicas", body=LONG_BODY + "\n\nFin de la lección.")
    lesson_with(course, "Funciones de búsqueda", body="BUSCARX en detalle")
    user = participant_in(course, full_name="Ana Pérez")
    return course, user


def _view(page, name: str) -> None:
    """A screenshot of what the participant sees (not the whole page: the bar's point is the viewport)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_warning_follows_the_participant_to_the_end_of_a_long_lesson(request, live, reading, size):
    page = request.getfixturevalue("page" if size == "desktop" else "phone_page")
    course, user = reading
    open_session(user, course, started_minutes_ago=172)
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")
    lesson = page.locator("#lesson")
    assert _in_viewport(page, lesson.get_by_role("heading", name="Tablas dinámicas"))  # first lesson, no scrolling
    _view(page, f"sence-bar-warning-top-{size}")

    lesson.get_by_text("Fin de la lección.").scroll_into_view_if_needed()

    warning = page.locator(".sence-box [role=alert]")
    assert "Cierra ahora tu sesión SENCE" in warning.inner_text()
    assert _in_viewport(page, warning)
    assert _in_viewport(page, page.get_by_role("button", name="Cerrar sesión SENCE"))
    bar = page.locator(".sence-box").bounding_box()
    assert bar["height"] <= (160 if size == "phone" else 130)  # compact: the lesson stays readable below it
    assert no_horizontal_scroll(page)
    _view(page, f"sence-bar-warning-scrolled-{size}")


def test_one_compact_box_with_a_session_open_on_a_phone(phone_page, live, reading):
    page = phone_page
    course, user = reading
    open_session(user, course, started_minutes_ago=20)
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")

    main = page.inner_text("main")
    assert page.locator(".sence-box").count() == 1
    assert main.count("Sesión SENCE activa") == 1 and "Sesión SENCE abierta" not in main
    assert page.locator(".sence-box").bounding_box()["height"] <= 110
    assert _in_viewport(page, page.locator("#lesson").get_by_role("heading", name="Tablas dinámicas"))
    _view(page, "sence-bar-open-phone")


def test_locked_the_box_says_once_what_to_do_and_mentions_claveunica(page, live, reading, shot):
    course, user = reading
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")

    box = page.locator(".sence-box")
    assert box.get_by_role("link", name="claveunica.gob.cl").get_attribute("href") == "https://claveunica.gob.cl/"
    assert "SENCE te pedirá tu ClaveÚnica" in box.inner_text()
    assert page.inner_text("main").count("sesión SENCE para ver el contenido") == 1
    shot(page, "sence-bar-locked-desktop")


def test_a_trip_without_answer_gets_advice_after_a_few_minutes(page, live, reading, shot):
    course, user = reading
    sign_in(page, live, user.email, PASSWORD)
    settings = course.sence
    db.session.add(Attempt(kind="login", id_sesion_alumno="sin-respuesta-1", user_id=user.id, course_id=course.id,
                           environment=settings.environment, run_alumno=user.run, cod_sence=settings.cod_sence,
                           codigo_curso=settings.codigo_curso, linea=settings.linea, status="pending",
                           created_at=utcnow() - timedelta(minutes=1),
                           answerable_until=utcnow() + timedelta(minutes=179)))
    db.session.commit()
    page.goto(f"{live.url}/cursos/{course.id}")
    advice = page.locator("[data-sence-waiting]")
    assert advice.count() == 1 and not advice.is_visible()  # a minute is normal on ClaveÚnica

    attempt = db.session.query(Attempt).filter_by(id_sesion_alumno="sin-respuesta-1").one()
    attempt.created_at = utcnow() - timedelta(minutes=4)
    db.session.commit()
    page.reload()

    assert advice.is_visible()
    text = advice.inner_text()
    assert "termina de ingresar ahí" in text and "presiona de nuevo «Iniciar sesión SENCE»" in text
    assert advice.get_by_role("link", name="recupérala en claveunica.gob.cl").is_visible()
    shot(page, "sence-bar-no-answer")


def test_without_javascript_the_warning_still_sticks(browser, live, reading, shot):
    course, user = reading
    open_session(user, course, started_minutes_ago=175)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740},
                                  locale="es-CL", timezone_id="America/Santiago")
    page = context.new_page()
    try:
        sign_in(page, live, user.email, PASSWORD)
        page.goto(f"{live.url}/cursos/{course.id}")
        page.locator("#lesson").get_by_text("Fin de la lección.").scroll_into_view_if_needed()
        warning = page.locator(".sence-box [role=alert]")
        assert _in_viewport(page, warning) and "Cierra ahora" in warning.inner_text()
    finally:
        context.close()


def test_an_expired_session_turns_the_bar_into_an_alert_with_the_start_button(phone_page, live, reading):
    page = phone_page
    course, user = reading
    open_session(user, course, started_minutes_ago=200)
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")

    alert = page.locator(".sence-box [role=alert]")
    assert "Sesión expirada: no cuenta para la asistencia" in alert.inner_text()
    assert page.locator(".sence-box").get_by_role("button", name="Iniciar sesión SENCE").is_visible()
    assert no_horizontal_scroll(page)
    _view(page, "sence-bar-expired-phone")
