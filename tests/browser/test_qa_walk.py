"""What a walk through the merged product found, as its users meet it: course tabs on a phone, the instructor's
way to the gradebook, an ended course, and admin tables whose cells line up."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.timeutil import today_in_chile
from tests.browser.conftest import no_horizontal_scroll, sign_in
from tests.courses.helpers import lesson_with
from tests.evaluations.helpers import make_evaluation
from tests.factories import PASSWORD, make_user
from tests.sence.builders import participant_in, sence_course

pytestmark = pytest.mark.browser

SIZES = ["page", "phone_page"]


def _course(**fields):
    course = sence_course(environment="simulator")
    course.title = "Excel intermedio"
    for key, value in fields.items():
        setattr(course, key, value)
    db.session.commit()
    return course


def test_on_a_phone_the_course_tabs_are_one_row_that_scrolls_with_the_current_tab_in_view(phone_page, live, shot):
    course = _course()
    make_user("admin", email="admin@otec.cl")
    sign_in(phone_page, live, "admin@otec.cl", PASSWORD)
    # the SENCE log is a sub-page of the SENCE tab; SIC's configuration is the second-to-last tab
    for path, current in ((f"/sence/cursos/{course.id}/registro", "SENCE"), (f"/sic/cursos/{course.id}", "SIC")):
        phone_page.goto(f"{live.url}{path}")
        tabs = phone_page.locator("nav.tabs[aria-label='Secciones del curso']")
        links = tabs.locator("a")
        expect(tabs.locator("a[aria-current=page]")).to_have_text(current)
        tops = {round(links.nth(i).bounding_box()["y"]) for i in range(links.count())}
        assert len(tops) == 1, f"the tabs wrap into {len(tops)} rows"
        assert min(links.nth(i).bounding_box()["height"] for i in range(links.count())) >= 44  # touch targets
        box = tabs.locator("a[aria-current=page]").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, f"the current tab is off screen: {box}"
        assert no_horizontal_scroll(phone_page)
    shot(phone_page, "qa-phone-course-tabs-sic")
    tabs.locator("a", has_text="Datos").scroll_into_view_if_needed()
    tabs.locator("a", has_text="Datos").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Editar curso")


@pytest.mark.parametrize("fixture", SIZES)
def test_an_instructor_reaches_the_gradebook_from_the_same_tabs_on_every_course_screen(request, fixture, live, shot):
    browser_page = request.getfixturevalue(fixture)
    instructor = make_user("instructor", email="irene@otec.cl")
    course = _course()
    course.instructors = [instructor]
    db.session.commit()
    evaluation = make_evaluation(course, title="Control 1")
    sign_in(browser_page, live, "irene@otec.cl", PASSWORD)
    browser_page.goto(f"{live.url}/cursos/{course.id}/lecciones/gestionar")
    tabs = browser_page.locator("nav.tabs[aria-label='Secciones del curso']")
    tabs.get_by_role("link", name="Calificaciones").click()
    expect(browser_page).to_have_url(f"{live.url}/cursos/{course.id}/calificaciones")
    expect(tabs.locator("a[aria-current=page]")).to_have_text("Calificaciones")
    # an evaluation's editor is part of Lecciones, with the same tabs as the other screens
    browser_page.goto(f"{live.url}/cursos/{course.id}/evaluaciones/{evaluation.id}/editar")
    expect(tabs.locator("a")).to_have_text(["Lecciones", "Asistencia", "Avance", "En vivo", "Calificaciones",
                                            "Ver curso"])
    expect(tabs.locator("a[aria-current=page]")).to_have_text("Lecciones")
    shot(browser_page, f"qa-instructor-tabs-{fixture}")


def test_an_ended_course_does_not_ask_for_a_sence_session_it_cannot_open(phone_page, live, shot):
    course = _course(start_date=today_in_chile() - timedelta(days=40), end_date=today_in_chile() - timedelta(days=10))
    lesson_with(course, "Tablas dinámicas", body="Contenido")
    participant_in(course, full_name="Ana Pérez", email="ana@otec.cl")
    sign_in(phone_page, live, "ana@otec.cl", PASSWORD)
    phone_page.goto(f"{live.url}/cursos/{course.id}")
    expect(phone_page.get_by_text("Ya no se registra asistencia SENCE")).to_be_visible()
    expect(phone_page.get_by_text("El curso terminó: su contenido ya no está disponible")).to_be_visible()
    expect(phone_page.get_by_role("button", name="Iniciar sesión SENCE")).to_have_count(0)
    expect(phone_page.get_by_text("Debes iniciar sesión SENCE")).to_have_count(0)
    shot(phone_page, "qa-phone-ended-course")


@pytest.mark.parametrize("fixture", SIZES)
def test_the_courses_list_shows_sence_status_first_and_its_cells_line_up(request, fixture, live, shot):
    browser_page = request.getfixturevalue(fixture)
    _course()
    make_user("admin", email="admin@otec.cl")
    sign_in(browser_page, live, "admin@otec.cl", PASSWORD)
    browser_page.goto(f"{live.url}/admin/cursos")
    expect(browser_page.locator("thead th").nth(1)).to_have_text("SENCE")
    row = browser_page.locator("tbody tr").first
    heights = {round(row.locator("td").nth(i).bounding_box()["height"]) for i in range(row.locator("td").count())}
    assert len(heights) == 1, f"cells of one row have different heights: {heights}"
    if fixture == "phone_page":  # the status is visible without scrolling the table sideways
        badge = row.locator("td").nth(1).locator(".badge").bounding_box()
        assert badge["x"] + badge["width"] <= 360
    shot(browser_page, f"qa-courses-list-{fixture}")
