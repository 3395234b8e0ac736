import pytest

from tests.browser.conftest import no_horizontal_scroll, sign_in
from tests.factories import PASSWORD, enroll, make_course, make_user

pytestmark = pytest.mark.browser


def test_participant_signs_in_with_a_dotted_run_and_sees_their_course(page, live, shot):
    ana = make_user(full_name="Ana Pérez", run="11111111-1")
    enroll(make_course(title="Excel intermedio"), ana)
    make_course(title="Curso ajeno")

    sign_in(page, live, "11.111.111-1", PASSWORD)

    assert page.get_by_role("link", name="Excel intermedio").is_visible()
    assert page.get_by_text("Curso ajeno").count() == 0
    shot(page, "dashboard-participant-desktop")


def test_sign_in_page_fits_a_phone(phone_page, live, shot):
    phone_page.goto(f"{live.url}/ingresar")
    assert no_horizontal_scroll(phone_page)
    shot(phone_page, "sign-in-phone")


def test_wrong_password_is_refused_with_a_clear_message(page, live):
    make_user(email="ines@example.cl")
    page.goto(f"{live.url}/ingresar")
    page.get_by_label("RUN o correo").fill("ines@example.cl")
    page.get_by_label("Contraseña").fill("otra-clave")
    page.get_by_role("button", name="Ingresar").click()
    assert page.get_by_role("alert").inner_text() == "RUN, correo o contraseña incorrectos."
