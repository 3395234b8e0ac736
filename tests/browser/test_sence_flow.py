"""The participant's SENCE trip in real headless Chromium, as manual v1.1.6 has it.

Pizarra on localhost, the simulator (SENCE) on 127.0.0.1, its ClaveÚnica on another port of 127.0.0.1:
Pizarra's trip page POSTs to SENCE, SENCE redirects to ClaveÚnica (another origin), ClaveÚnica sends the
browser back to SENCE, and SENCE's answer is a cross-site POST into Pizarra (no login cookie), exactly
like SENCE's.
"""

import re

import pytest
from sqlalchemy import select

from app.security import content_security_policy
from app.sence.models import Attempt, Exchange, SenceSession
from tests.browser.conftest import no_horizontal_scroll, sign_in
from tests.browser.sence_steps import complete_sence_round
from tests.factories import PASSWORD
from tests.sence.builders import participant_in, sence_course
from tests.sence.sence_registry import NOT_ON_ROSTER, WRONG_COD_SENCE

pytestmark = pytest.mark.browser


@pytest.fixture
def enrolled(db, live):
    course = sence_course(environment="simulator")
    user = participant_in(course, full_name="Ana Pérez")
    return course, user


def _sessions(db) -> list[SenceSession]:
    db.session.expire_all()
    return db.session.execute(select(SenceSession)).scalars().all()


def _form_action(csp: str) -> set[str]:
    return set(re.search(r"form-action ([^;]+)", csp).group(1).split())


def test_login_and_logout_through_claveunica_on_another_origin(page, live, claveunica_url, enrolled, db, shot):
    course, user = enrolled
    refused = []  # what our CSP blocked on our pages (htmx once set an empty inline style after the trip)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")
    controls = page.locator("#sence-controls")

    with page.expect_popup() as opened:
        page.get_by_role("button", name="Iniciar sesión SENCE").click()
    popup = opened.value
    popup.wait_for_url(re.compile(re.escape(claveunica_url)))
    shot(popup, "sence-claveunica-login")
    complete_sence_round(popup, claveunica_url, user.run)
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
    complete_sence_round(popup, claveunica_url, user.run)
    popup.wait_for_event("close")

    page.locator("#sence-controls").get_by_role("button", name="Iniciar sesión SENCE").wait_for()
    assert page.get_by_role("status").filter(has_text="Sesión SENCE cerrada correctamente").is_visible()
    assert "Sesión SENCE iniciada" not in page.inner_text("main")
    assert [s.status for s in _sessions(db)] == ["closed"]
    shot(page, "sence-session-closed")
    assert refused == []


def test_the_trip_page_lets_the_redirect_to_claveunica_through_and_the_sites_policy_would_not(
        browser, live, simulator, simulator_url, claveunica_url, enrolled, db):
    """The regression: with the site's CSP on the trip page, Chromium blocks SENCE's redirect to ClaveÚnica."""
    course, user = enrolled
    site_policy = content_security_policy(live.app)
    context = browser.new_context(locale="es-CL", timezone_id="America/Santiago")
    context.set_default_timeout(10_000)
    seen = {}

    def old_policy(route):
        response = route.fetch()
        seen["trip"] = response.headers["content-security-policy"]
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": site_policy})

    try:
        page = context.new_page()
        sign_in(page, live, user.email, PASSWORD)
        page.goto(f"{live.url}/cursos/{course.id}")
        context.route(re.compile(r".*/sence/cursos/\d+/iniciar$"), old_policy)
        csp_message = context.expect_event("console", lambda m: "Content Security Policy" in m.text)
        with csp_message as blocked, page.expect_popup() as opened:
            page.get_by_role("button", name="Iniciar sesión SENCE").click()
        popup = opened.value
        # The console message: Chromium names the form's target, though it blocks the redirect after it.
        assert f"Sending form data to '{simulator_url}/Registro/IniciarSesion' violates" in blocked.value.text
        assert "form-action" in blocked.value.text
        assert "Conectando con SENCE" in popup.inner_text("body")  # the popup stops on our own page
    finally:
        context.close()
    assert _form_action(seen["trip"]) == {"'self'", "https:", simulator_url.removesuffix("/rce"), claveunica_url}
    assert claveunica_url not in _form_action(site_policy)
    attempt = db.session.execute(select(Attempt)).scalar_one()
    assert attempt.status == "pending"
    trips = simulator.extensions["sence_simulator"].trips.values()
    assert [t.fields["IdSesionAlumno"] for t in trips if t.fields["IdSesionAlumno"] == attempt.id_sesion_alumno]


def test_a_blocked_popup_runs_the_trip_in_the_main_window(browser, live, claveunica_url, enrolled, db, shot):
    course, user = enrolled
    context = browser.new_context(locale="es-CL", timezone_id="America/Santiago")
    context.add_init_script("window.open = function () { return null; };")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live, user.email, PASSWORD)
        page.goto(f"{live.url}/cursos/{course.id}")

        page.get_by_role("button", name="Iniciar sesión SENCE").click()
        complete_sence_round(page, claveunica_url, user.run)

        page.wait_for_url(f"{live.url}/cursos/{course.id}")
        assert "Sesión SENCE iniciada: tu asistencia quedó registrada." in page.inner_text("main")
        assert page.locator("#sence-controls").get_by_role("button", name="Cerrar sesión SENCE").is_visible()
        shot(page, "sence-main-window")
        assert [s.status for s in _sessions(db)] == ["open"]
        assert db.session.execute(select(Attempt.via_popup)).scalar_one() is False
    finally:
        context.close()


def test_a_wrong_claveunica_keeps_the_participant_on_claveunica_and_pizarra_hears_nothing(
        page, live, claveunica_url, enrolled, db):
    course, user = enrolled
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")

    with page.expect_popup() as opened:
        page.get_by_role("button", name="Iniciar sesión SENCE").click()
    popup = opened.value
    complete_sence_round(popup, claveunica_url, user.run, password="0000")
    popup.get_by_text("RUN o ClaveÚnica incorrectos").wait_for()
    assert popup.url.startswith(claveunica_url)
    assert db.session.execute(select(Attempt.status)).scalar_one() == "pending"

    complete_sence_round(popup, claveunica_url, user.run)  # the right one, later, on the same page
    popup.wait_for_event("close")
    assert [s.status for s in _sessions(db)] == ["open"]


def test_a_roster_without_the_participant_answers_208_with_its_guidance(page, live, claveunica_url, db, shot):
    course = sence_course(environment="simulator", codigo_curso=NOT_ON_ROSTER)
    user = participant_in(course, full_name="Ana Pérez")
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")

    with page.expect_popup() as opened:
        page.get_by_role("button", name="Iniciar sesión SENCE").click()
    opened.value.wait_for_event("close")  # SENCE answers before ClaveÚnica: the request itself is refused

    failure = page.locator(".sence-failure")
    failure.wait_for()
    assert "no está inscrito en este curso" in failure.inner_text()
    assert "Reintentar no lo resolverá" in failure.inner_text() and "inténtalo de nuevo" not in failure.inner_text()
    assert page.get_by_role("button", name="Iniciar sesión SENCE").is_visible()  # retry at once
    shot(page, "sence-error-208")
    assert _sessions(db) == []
    assert db.session.execute(select(Attempt.error_codes)).scalar_one() == "208"


def test_a_course_code_under_another_cod_sence_answers_306(page, live, db):
    course = sence_course(environment="simulator", codigo_curso=WRONG_COD_SENCE)
    user = participant_in(course)
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Iniciar sesión SENCE").click()
    opened.value.wait_for_event("close")
    page.locator(".sence-failure").wait_for()
    assert db.session.execute(select(Attempt.error_codes)).scalar_one() == "306"


def test_the_sence_box_fits_a_phone(phone_page, live, enrolled, shot):
    course, user = enrolled
    sign_in(phone_page, live, user.email, PASSWORD)
    phone_page.goto(f"{live.url}/cursos/{course.id}")

    assert phone_page.get_by_role("button", name="Iniciar sesión SENCE").is_visible()
    assert no_horizontal_scroll(phone_page)
    shot(phone_page, "sence-controls-phone")


def test_closing_the_claveunica_window_sends_pizarra_nothing(page, live, claveunica_url, enrolled, db):
    course, user = enrolled
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")

    with page.expect_popup() as opened:
        page.get_by_role("button", name="Iniciar sesión SENCE").click()
    popup = opened.value
    popup.wait_for_url(re.compile(re.escape(claveunica_url)))
    popup.close()

    page.reload()
    assert page.get_by_role("button", name="Iniciar sesión SENCE").is_visible()  # a new attempt at once
    db.session.expire_all()
    assert db.session.execute(select(Attempt.status)).scalar_one() == "pending"
    assert db.session.execute(select(Exchange.direction)).scalars().all() == ["out"]
    assert _sessions(db) == []
