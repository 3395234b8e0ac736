"""The participant's SENCE trip in real headless Chromium: Pizarra on localhost, the simulator on 127.0.0.1.

The simulator's answer is a cross-site POST (no login cookie), exactly like SENCE's.
"""

import re

import pytest
from sqlalchemy import select

from app.sence.models import Attempt, SenceSession
from tests.browser.conftest import no_horizontal_scroll, sign_in
from tests.browser.sence_steps import simulator_error, simulator_round
from tests.factories import PASSWORD
from tests.sence.builders import participant_in, sence_course

pytestmark = pytest.mark.browser


@pytest.fixture
def enrolled(db, live):
    course = sence_course(environment="simulator")
    user = participant_in(course, full_name="Ana Pérez")
    return course, user


def _sessions(db) -> list[SenceSession]:
    db.session.expire_all()
    return db.session.execute(select(SenceSession)).scalars().all()


def test_login_and_logout_through_the_popup(page, live, simulator_url, enrolled, db, shot):
    course, user = enrolled
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")
    controls = page.locator("#sence-controls")

    with page.expect_popup() as opened:
        page.get_by_role("button", name="Iniciar sesión SENCE").click()
    popup = opened.value
    popup.wait_for_url(re.compile(re.escape(simulator_url)))
    assert popup.get_by_label("RUN").input_value() == user.run
    shot(popup, "sence-simulator-login")
    simulator_round(popup, simulator_url)
    popup.wait_for_event("close")

    controls.get_by_role("button", name="Cerrar sesión SENCE").wait_for()
    box = page.locator(".sence-box")
    box.get_by_text("Sesión SENCE activa").wait_for()
    assert page.get_by_role("status").filter(has_text="Sesión SENCE iniciada").is_visible()
    assert page.url == f"{live.url}/cursos/{course.id}"
    shot(page, "sence-session-open")
    sessions = _sessions(db)
    assert [(s.status, s.user_id) for s in sessions] == [("open", user.id)]
    assert db.session.execute(select(Attempt.via_popup)).scalar_one() is True

    with page.expect_popup() as opened:
        controls.get_by_role("button", name="Cerrar sesión SENCE").click()
    popup = opened.value
    simulator_round(popup, simulator_url)
    popup.wait_for_event("close")

    page.locator("#sence-controls").get_by_role("button", name="Iniciar sesión SENCE").wait_for()
    assert page.get_by_role("status").filter(has_text="Sesión SENCE cerrada correctamente").is_visible()
    assert "Sesión SENCE iniciada" not in page.inner_text("main")
    assert [s.status for s in _sessions(db)] == ["closed"]
    shot(page, "sence-session-closed")


def test_a_blocked_popup_runs_the_trip_in_the_main_window(browser, live, simulator_url, enrolled, db, shot):
    course, user = enrolled
    context = browser.new_context(locale="es-CL", timezone_id="America/Santiago")
    context.add_init_script("window.open = function () { return null; };")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live, user.email, PASSWORD)
        page.goto(f"{live.url}/cursos/{course.id}")

        page.get_by_role("button", name="Iniciar sesión SENCE").click()
        simulator_round(page, simulator_url)

        page.wait_for_url(f"{live.url}/cursos/{course.id}")
        assert "Sesión SENCE iniciada: tu asistencia quedó registrada." in page.inner_text("main")
        assert page.locator("#sence-controls").get_by_role("button", name="Cerrar sesión SENCE").is_visible()
        shot(page, "sence-main-window")
        assert [s.status for s in _sessions(db)] == ["open"]
        assert db.session.execute(select(Attempt.via_popup)).scalar_one() is False
    finally:
        context.close()


def test_an_error_chosen_on_the_simulator_shows_its_guidance(page, live, simulator_url, enrolled, db, shot):
    course, user = enrolled
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")

    with page.expect_popup() as opened:
        page.get_by_role("button", name="Iniciar sesión SENCE").click()
    simulator_error(opened.value, simulator_url, "208")
    opened.value.wait_for_event("close")

    failure = page.locator(".sence-failure")
    failure.wait_for()
    assert "no está inscrito en este curso" in failure.inner_text()
    assert "Reintentar no lo resolverá" in failure.inner_text() and "inténtalo de nuevo" not in failure.inner_text()
    assert page.get_by_role("button", name="Iniciar sesión SENCE").is_visible()  # retry at once
    shot(page, "sence-error-208")
    assert _sessions(db) == []
    assert db.session.execute(select(Attempt.error_codes)).scalar_one() == "208"


def test_the_sence_box_fits_a_phone(phone_page, live, enrolled, shot):
    course, user = enrolled
    sign_in(phone_page, live, user.email, PASSWORD)
    phone_page.goto(f"{live.url}/cursos/{course.id}")

    assert phone_page.get_by_role("button", name="Iniciar sesión SENCE").is_visible()
    assert no_horizontal_scroll(phone_page)
    shot(phone_page, "sence-controls-phone")
