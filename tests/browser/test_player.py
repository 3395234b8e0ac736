"""The course player in real headless Chromium: the SENCE gate, the popup login, the timer, desktop and phone.

Time is controlled with sessions that started in the past (tests/factories.open_session) and, for the 30-s
poll, Playwright's fake clock: nothing here sleeps.
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.sence.models import SenceSession
from app.timeutil import utcnow
from tests.browser.conftest import no_horizontal_scroll, sign_in, wait_until
from tests.browser.sence_steps import complete_sence_round
from tests.courses.helpers import PDF, SECRET, WEBM, lesson_with
from tests.factories import PASSWORD, make_course, make_user, open_session
from tests.sence.builders import participant_in, sence_course

pytestmark = pytest.mark.browser

LOCKED = "Debes iniciar sesión SENCE para ver el contenido"


@pytest.fixture
def course_with_content(db, live):
    course = sence_course(environment="simulator")
    course.title = "Excel intermedio"
    db.session.commit()
    lesson = lesson_with(course, "Tablas dinámicas", body=f"{SECRET}\n\n**Paso 1**: selecciona tus datos.",
                         files=[("clase.webm", WEBM), ("Guía.pdf", PDF)])
    lesson_with(course, "Funciones de búsqueda", body="BUSCARX en detalle")
    user = participant_in(course, full_name="Ana Pérez")
    return course, lesson, user


def _simulator_login(page, claveunica_url: str, run: str) -> None:
    with page.expect_popup() as opened:
        page.locator("#sence-controls").get_by_role("button", name="Iniciar sesión SENCE").click()
    popup = opened.value
    complete_sence_round(popup, claveunica_url, run)
    popup.wait_for_event("close")


def _assert_locked(page, live, course, lesson) -> None:
    # htmx applies the swapped-in element's attributes only after its settle delay: wait for them.
    expect(page.locator("#player")).to_have_class(re.compile(r"\bplayer-locked\b"))
    expect(page.locator("#player .player-layout")).to_have_attribute("inert", "")
    assert "blur" in page.locator("#player .player-layout").evaluate("el => getComputedStyle(el).filter")
    assert page.get_by_text(LOCKED).is_visible()
    assert SECRET not in page.content()
    link = page.locator("#player .lesson-list a").first
    assert link.evaluate("a => { a.focus(); return document.activeElement === a; }") is False  # inert
    for url in (f"/cursos/{course.id}/lecciones/{lesson.id}",
                f"/cursos/{course.id}/material/{lesson.materials[0].id}"):
        response = page.request.get(live.url + url)
        assert response.status == 403 and LOCKED in response.text()


def _assert_unlocked(page, live, course, lesson) -> None:
    page.locator("#lesson").get_by_text(SECRET).wait_for()
    expect(page.locator("#player")).not_to_have_class(re.compile(r"\bplayer-locked\b"))
    expect(page.locator("#player .player-layout")).not_to_have_attribute("inert", re.compile(".*"))
    assert page.locator("#sence-timer").get_by_text("Sesión SENCE activa").is_visible()
    video = lesson.materials[0]
    response = page.request.get(f"{live.url}/cursos/{course.id}/material/{video.id}",
                                headers={"Range": "bytes=0-99"})
    assert response.status == 206 and response.body() == WEBM[:100]


def test_content_is_locked_before_login_and_opens_after_the_popup_without_reload(
        page, live, claveunica_url, course_with_content, shot):
    course, lesson, user = course_with_content
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")

    _assert_locked(page, live, course, lesson)
    shot(page, "player-locked-desktop")

    page.evaluate("window.__samePage = true")
    _simulator_login(page, claveunica_url, user.run)

    _assert_unlocked(page, live, course, lesson)
    assert page.evaluate("window.__samePage") is True  # unblurred in place, no reload
    video = page.locator("video.material-video")
    wait_until(page, "document.querySelector('video.material-video').readyState >= 1")
    assert video.evaluate("v => v.duration") > 5
    video.evaluate("v => new Promise(done => { v.addEventListener('seeked', done, {once: true}); v.currentTime = 6; })")
    assert video.evaluate("v => v.currentTime") >= 5.9  # seeking works: the server answers Range requests
    shot(page, "player-unlocked-desktop")

    page.get_by_role("button", name="Marcar como completada").click()
    page.get_by_text("1 de 2 lecciones completadas").wait_for()
    page.locator("#player").get_by_role("link", name="Siguiente →").click()
    page.locator("#lesson").get_by_text("BUSCARX en detalle").wait_for()
    assert page.evaluate("window.__samePage") is True
    assert page.url.endswith(f"/cursos/{course.id}/lecciones/{lesson.id + 1}")

    page.go_back()  # the page is not kept in htmx's localStorage cache: the server renders it again, whole
    page.wait_for_url(f"{live.url}/cursos/{course.id}")
    page.locator("#lesson").get_by_text("BUSCARX en detalle").wait_for()  # the place: the last lesson opened
    assert page.locator("header.topbar").count() == 1 and page.locator("#sence-timer").count() == 1
    assert not any("lesson" in key.lower() or SECRET in (value or "") for key, value in
                   page.evaluate("Object.entries(localStorage)"))


def test_the_warning_shows_ten_minutes_before_the_limit_and_the_title_changes(page, live, course_with_content, shot):
    course, lesson, user = course_with_content
    open_session(user, course, started_minutes_ago=172, limit_minutes=180)
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")

    warning = page.locator("#sence-timer [role=alert]")
    assert warning.is_visible()
    assert re.search(r"Quedan [78] minutos", warning.inner_text()) and "Cierra ahora" in warning.inner_text()
    assert page.title().startswith("⚠ Cierra tu sesión SENCE · Excel intermedio")
    left = page.locator("[data-clock=left]")
    first = left.inner_text()
    assert re.fullmatch(r"0:0[78]:\d\d", first)
    wait_until(page, "text => document.querySelector('[data-clock=left]').textContent !== text", arg=first)
    wait_until(page, "document.querySelector('video.material-video').readyState >= 1")
    shot(page, "player-timer-warning")


def test_when_the_session_expires_the_next_poll_blurs_the_content_again(page, live, course_with_content, db):
    course, lesson, user = course_with_content
    sence_session = open_session(user, course, started_minutes_ago=30)
    page.clock.install()
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")
    page.locator("#lesson").get_by_text(SECRET).wait_for()
    page.evaluate("window.__samePage = true")

    sence_session.expires_at = utcnow() - timedelta(seconds=1)  # the limit passes
    db.session.commit()
    page.clock.fast_forward(31_000)  # htmx's `every 30s`

    page.locator("#sence-timer").get_by_text("Sesión expirada: no cuenta para la asistencia").wait_for()
    page.get_by_text(LOCKED).wait_for()
    _assert_locked(page, live, course, lesson)
    page.locator("#sence-controls").get_by_role("button", name="Iniciar sesión SENCE").wait_for()
    assert page.title().startswith("Sesión SENCE expirada")
    assert page.evaluate("window.__samePage") is True


def test_the_same_journey_fits_a_phone(phone_page, live, claveunica_url, course_with_content, shot):
    page = phone_page
    course, lesson, user = course_with_content
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")

    _assert_locked(page, live, course, lesson)
    assert no_horizontal_scroll(page)
    start = page.locator("#sence-controls").get_by_role("button", name="Iniciar sesión SENCE").bounding_box()
    assert start["height"] >= 44
    shot(page, "player-locked-phone")

    _simulator_login(page, claveunica_url, user.run)

    _assert_unlocked(page, live, course, lesson)
    wait_until(page, "document.querySelector('video.material-video').readyState >= 1")
    assert no_horizontal_scroll(page)
    for selector in ("video.material-video", "iframe.material-pdf"):
        box = page.locator(selector).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    overflowing = page.evaluate("""() => [...document.querySelectorAll('.material > *')]
        .filter(e => e.getBoundingClientRect().bottom > e.parentElement.getBoundingClientRect().bottom + 1)
        .map(e => e.outerHTML.slice(0, 60))""")
    assert overflowing == []  # nothing spills over the next block
    for name in ("Marcar como completada", "Cerrar sesión SENCE"):
        assert page.get_by_role("button", name=name).bounding_box()["height"] >= 44
    shot(page, "player-unlocked-phone")


def test_the_dashboard_closes_an_open_session_through_the_popup(page, live, claveunica_url, course_with_content, db):
    course, lesson, user = course_with_content
    sign_in(page, live, user.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")
    _simulator_login(page, claveunica_url, user.run)
    page.goto(f"{live.url}/")

    box = page.locator("#open-sessions")
    assert "Excel intermedio" in box.inner_text()
    with page.expect_popup() as opened:
        box.get_by_role("button", name="Cerrar sesión SENCE").click()
    popup = opened.value
    complete_sence_round(popup, claveunica_url, user.run)
    popup.wait_for_event("close")

    wait_until(page, "!document.querySelector('#open-sessions').textContent.includes('Excel intermedio')")
    db.session.expire_all()
    assert db.session.execute(select(SenceSession.status)).scalars().all() == ["closed"]


def test_an_instructor_builds_a_lesson_on_a_phone(phone_page, live, db, shot):
    page = phone_page
    instructor = make_user("instructor", full_name="Irene Instructora")
    course = make_course(instructors=[instructor])
    sign_in(page, live, instructor.email, PASSWORD)

    page.goto(f"{live.url}/cursos/{course.id}/lecciones/gestionar")
    page.get_by_label("Título").fill("Tablas dinámicas")
    page.get_by_label("Contenido").fill("## Paso 1\n\n<script>alert(1)</script> **Selecciona** tus datos.")
    page.get_by_role("button", name="Crear lección").click()
    page.get_by_text("Lección «Tablas dinámicas» creada").wait_for()
    assert no_horizontal_scroll(page)

    page.get_by_role("button", name="Vista previa").click()
    preview = page.locator("#lesson-preview")
    preview.get_by_role("heading", name="Paso 1").wait_for()
    assert "<script>alert(1)</script>" in preview.inner_text()  # shown as text, never run

    page.get_by_label("Subir un archivo").set_input_files(
        files=[{"name": "Guía.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name="Subir", exact=True).click()
    page.get_by_text("Archivo «Guía.pdf» subido.").wait_for()
    assert no_horizontal_scroll(page)
    shot(page, "lesson-editor-phone")

    live.app.config["MAX_UPLOAD_MB"] = 1  # the form states the limit; the browser checks it before sending
    try:
        page.reload()
        page.get_by_label("Subir un archivo").set_input_files(
            files=[{"name": "grande.pdf", "mimeType": "application/pdf", "buffer": PDF + bytes(2 * 1024 * 1024)}])
        message = page.get_by_label("Subir un archivo").evaluate("input => input.validationMessage")
        assert "supera el tamaño máximo de 1 MB" in message
    finally:
        live.app.config["MAX_UPLOAD_MB"] = 200


def test_signing_out_with_an_open_session_asks_first_on_a_phone(phone_page, live, course_with_content, shot):
    page = phone_page
    course, lesson, user = course_with_content
    open_session(user, course, started_minutes_ago=40)
    sign_in(page, live, user.email, PASSWORD)

    page.get_by_role("button", name="Salir").click()

    page.wait_for_url(f"{live.url}/salir/confirmar")
    assert "Tienes una sesión SENCE abierta" in page.inner_text("main")
    assert page.get_by_role("button", name="Cerrar sesión SENCE").is_visible()
    assert no_horizontal_scroll(page)
    shot(page, "sign-out-question-phone")
    page.get_by_role("button", name="Salir sin cerrar la sesión SENCE").click()
    page.wait_for_url(re.compile(r".*/ingresar.*"))
