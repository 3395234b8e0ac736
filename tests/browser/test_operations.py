"""OTEC staff pages (issue 5) in a real Chromium: attendance with its chart, live view, Correos, on a phone too."""

from datetime import timedelta

import pytest

from app.extensions import db
from app.notify.service import enqueue
from app.timeutil import utcnow
from tests.browser.conftest import no_horizontal_scroll, sign_in
from tests.factories import PASSWORD, enroll, make_course, make_user
from tests.notify.helpers import make_attempt, open_session

pytestmark = pytest.mark.browser


def _history():
    course = make_course(title="Excel intermedio para equipos de administración y finanzas", hours=8,
                         sence={"cod_sence": "1237894560", "codigo_curso": "FT-2025-0001234",
                                "connectivity_target": 40})
    people = [make_user(full_name=name) for name in ("Ana María Pérez Rojas", "Bernardo Ignacio Soto Valenzuela",
                                                        "Camila Fernanda Díaz")]
    for person in people:
        enroll(course, person)
    start = utcnow() - timedelta(days=1)
    open_session(people[0], course, started_at=start, status="closed", closed_at=start + timedelta(hours=3))
    open_session(people[1], course, started_at=start, status="closed", closed_at=start + timedelta(hours=1))
    open_session(people[2], course, started_at=utcnow() - timedelta(minutes=20))
    make_attempt(people[1], course, status="failed", error_codes="211;204", created_at=utcnow() - timedelta(hours=1))
    enqueue("alert", ["alertas@otec.cl"], "Falla SENCE: Bernardo Ignacio Soto Valenzuela en «Excel intermedio»",
            "Código 211: " + "texto largo " * 30)
    db.session.commit()
    return course


@pytest.mark.parametrize("fixture", ["page", "phone_page"])
def test_staff_pages_render_and_fit(request, fixture, live, shot):
    browser_page = request.getfixturevalue(fixture)
    course = _history()
    admin = make_user("admin", email="admin@otec.cl")
    sign_in(browser_page, live, admin.email, PASSWORD)

    browser_page.goto(f"{live.url}/reportes/cursos/{course.id}/asistencia")
    assert browser_page.locator("svg.chart rect.chart-bar").count() == 3
    assert browser_page.get_by_text("37,5 %").first.is_visible()
    assert no_horizontal_scroll(browser_page)
    shot(browser_page, f"attendance-{fixture}")

    browser_page.goto(f"{live.url}/reportes/en-vivo")
    assert browser_page.get_by_text("Sesiones abiertas ahora (1)").is_visible()
    assert no_horizontal_scroll(browser_page)
    shot(browser_page, f"live-{fixture}")

    browser_page.goto(f"{live.url}/admin/correos/")
    browser_page.get_by_role("link", name="Falla SENCE: Bernardo").click()
    assert browser_page.get_by_text("texto largo texto largo").first.is_visible()
    assert no_horizontal_scroll(browser_page)
    shot(browser_page, f"outbox-message-{fixture}")


def test_the_live_view_refreshes_its_fragment_in_place(page, live):
    course = _history()
    admin = make_user("admin", email="admin2@otec.cl")
    sign_in(page, live, admin.email, PASSWORD)
    page.clock.install()
    page.goto(f"{live.url}/reportes/en-vivo")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    late = make_user(full_name="Daniela Recién Llegada")
    enroll(course, late)
    open_session(late, course, started_at=utcnow() - timedelta(minutes=1))

    page.clock.run_for("00:31")  # the page's own clock: no 30-second wait in the test
    page.get_by_text("Daniela Recién Llegada").wait_for()

    assert page.locator("h1").count() == 1  # the fragment, not a page inside the page
    assert page.get_by_text("Sesiones abiertas ahora (2)").is_visible()
    assert errors == []
