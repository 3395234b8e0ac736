"""«Revisar antes de empezar» as the OTEC sees it: the status on the course list leads to the list of problems."""

import pytest

from tests.browser.conftest import no_horizontal_scroll, sign_in
from tests.factories import PASSWORD, make_user
from tests.sence.builders import participant_in, sence_course

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_course_list_status_leads_to_the_problems(browser, live, db, shot, viewport):
    admin = make_user("admin")
    course = sence_course(environment="test", cod_sence="123")
    course.title = "Excel intermedio"
    participant_in(course, full_name="Berta Sin Run", run=None)
    db.session.commit()
    size = {"width": 1280, "height": 800} if viewport == "desktop" else {"width": 360, "height": 740}
    context = browser.new_context(locale="es-CL", timezone_id="America/Santiago", viewport=size)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live, admin.email, PASSWORD)
        page.goto(f"{live.url}/admin/cursos")
        shot(page, f"preflight-course-list-{viewport}")
        page.get_by_role("link", name="3 problemas").click()

        section = page.locator("#revisar")
        section.get_by_text("Sin RUN: Berta Sin Run").wait_for()
        assert "Revisar antes de empezar" in section.inner_text()
        assert "El código SENCE debe tener exactamente 10 caracteres" in section.inner_text()
        assert no_horizontal_scroll(page)
        shot(page, f"preflight-sence-page-{viewport}")
    finally:
        context.close()
