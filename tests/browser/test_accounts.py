"""A participant with a shared initial password chooses their own; a forgotten one is reset by the e-mailed link."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.notify.models import OutboxMessage
from tests.browser.conftest import no_horizontal_scroll, sign_in
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser


def test_a_shared_initial_password_is_replaced_at_the_first_sign_in(page, live, shot):
    make_user(full_name="Ana Pérez", run="11111111-1", password="compartida-1", must_change_password=True)

    page.goto(f"{live.url}/ingresar")
    page.get_by_label("RUN o correo").fill("11.111.111-1")
    page.get_by_label("Contraseña").fill("compartida-1")
    page.get_by_role("button", name="Ingresar").click()

    page.wait_for_url(f"{live.url}/clave")
    assert page.get_by_role("heading", name="Elige tu propia contraseña").is_visible()
    shot(page, "forced-password-change-desktop")
    page.goto(f"{live.url}/")
    assert page.url.endswith("/clave")
    page.get_by_label("Contraseña actual").fill("compartida-1")
    page.get_by_label("Nueva contraseña", exact=True).fill("mi-clave-propia")
    page.get_by_label("Repite la nueva contraseña").fill("mi-clave-propia")
    page.get_by_role("button", name="Guardar").click()
    assert page.get_by_text("Tu contraseña fue cambiada.").is_visible()
    assert page.get_by_text("Ana Pérez").first.is_visible()


def test_a_forgotten_password_is_reset_with_the_link_from_the_outbox(phone_page, live, shot):
    make_user(full_name="Benito Soto", run="22222222-2", email="benito@example.cl")
    page = phone_page
    page.goto(f"{live.url}/ingresar")
    page.get_by_role("link", name="¿Olvidaste tu contraseña?").click()
    assert no_horizontal_scroll(page)
    shot(page, "forgot-password-phone")
    page.get_by_label("RUN o correo").fill("22.222.222-2")
    page.get_by_role("button", name="Enviar enlace").click()
    assert page.get_by_text("te enviamos un enlace").is_visible()

    db.session.expire_all()
    body = db.session.execute(select(OutboxMessage.body).where(OutboxMessage.kind == "reset")).scalar_one()
    path = re.search(r"/clave/restablecer/[\w.\-]+", body).group(0)
    page.goto(live.url + path)
    assert no_horizontal_scroll(page)
    page.get_by_label("Nueva contraseña", exact=True).fill("clave-nueva-88")
    page.get_by_label("Repite la nueva contraseña").fill("clave-nueva-88")
    shot(page, "reset-password-phone")
    page.get_by_role("button", name="Guardar contraseña").click()
    assert page.get_by_text("Tu nueva contraseña quedó guardada").is_visible()

    sign_in(page, live, "22222222-2", "clave-nueva-88")
    assert page.get_by_text("Benito Soto").first.is_visible()


def test_staff_close_a_users_sessions_from_the_user_page(page, live, shot):
    make_user("admin", email="jefa@example.cl")
    ana = make_user(full_name="Ana Pérez", run="11111111-1")
    sign_in(page, live, "jefa@example.cl", PASSWORD)
    page.goto(f"{live.url}/admin/usuarios/{ana.id}")
    shot(page, "user-access-desktop")
    page.get_by_role("button", name="Cerrar sesiones").click()
    assert page.get_by_text("Se cerraron las sesiones de Ana Pérez en todos sus dispositivos.").is_visible()
