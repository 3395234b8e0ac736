"""Accounts nobody else holds the key to: a shared initial password is replaced at the first sign-in, a
forgotten one is reset by a signed, expiring, single-use link sent through the outbox, and staff can force it."""

import re
import time
from io import BytesIO

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from app.auth import reset
from app.auth.models import User
from app.extensions import db
from app.notify.models import OutboxMessage
from tests.factories import PASSWORD, login, make_course, make_user
from tests.notify.conftest import smtp  # noqa: F401 (a real SMTP server for the end-to-end test)

SENT = "Si la cuenta existe y tiene un correo registrado, te enviamos un enlace"
LINK = re.compile(r"http://localhost/clave/restablecer/[\w.\-]+")


def _outbox(kind: str) -> list[OutboxMessage]:
    return list(db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                   .order_by(OutboxMessage.id)).scalars())


def _link_path(message: OutboxMessage) -> str:
    return LINK.search(message.body).group(0).removeprefix("http://localhost")


def _import(client, course, content: str, invite: bool):
    data = {"import-file": (BytesIO(content.encode()), "alumnos.csv"), "import-password": "compartida-1"}
    if invite:
        data["import-invite"] = "y"
    return client.post(f"/admin/cursos/{course.id}/importar", data=data, content_type="multipart/form-data")


@pytest.fixture
def admin(app):
    staff = app.test_client()
    login(staff, make_user("admin"))
    return staff


# --- The shared initial password --------------------------------------------------------------------


def test_an_imported_participant_must_choose_a_password_at_first_sign_in(app, client, db, admin):
    course = make_course()
    _import(admin, course, "RUN;nombre;correo\n11.111.111-1;Ana Pérez;ana@demo.cl\n", invite=False)

    response = client.post("/ingresar", data={"identifier": "11111111-1", "password": "compartida-1"})

    assert response.headers["Location"].endswith("/clave")
    page = client.get("/clave").get_data(as_text=True)
    assert "Elige tu propia contraseña" in page and "contraseña inicial" in page
    assert client.get("/").headers["Location"].endswith("/clave")  # nothing else opens first
    assert client.get(f"/cursos/{course.id}").headers["Location"].endswith("/clave")
    htmx = client.get(f"/sence/cursos/{course.id}/controles", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].endswith("/clave")

    client.post("/clave", data={"current": "compartida-1", "new": "mi-propia-clave", "confirm": "mi-propia-clave"})

    assert client.get("/").status_code == 200
    user = db.session.execute(select(User).where(User.run == "11111111-1")).scalar_one()
    assert not user.must_change_password
    client.post("/salir")
    assert client.post("/ingresar", data={"identifier": "11111111-1", "password": "mi-propia-clave"}
                       ).headers["Location"] == "/"


def test_the_import_can_invite_new_participants_to_choose_their_password(app, client, db, admin):
    course = make_course()
    response = _import(admin, course, "RUN;nombre;correo\n11.111.111-1;Ana Pérez;ana@demo.cl\n"
                                      "22222222-2;Benito Soto;\n", invite=True)

    assert "Se enviarán 1 invitación(es) por correo" in response.get_data(as_text=True)
    [invitation] = _outbox("invitation")
    assert invitation.recipients == ["ana@demo.cl"] and "Ana Pérez" in invitation.body
    assert "vence en 7 días" in invitation.body
    form = client.get(_link_path(invitation))
    assert form.status_code == 200 and "Elige tu nueva contraseña" in form.get_data(as_text=True)
    client.post(_link_path(invitation), data={"new": "mi-propia-clave", "confirm": "mi-propia-clave"})
    assert client.post("/ingresar", data={"identifier": "11111111-1", "password": "mi-propia-clave"}
                       ).headers["Location"] == "/"


def test_without_the_invite_box_no_mail_is_queued(db, admin):
    _import(admin, make_course(), "RUN;nombre;correo\n11.111.111-1;Ana Pérez;ana@demo.cl\n", invite=False)
    assert _outbox("invitation") == []


# --- "¿Olvidaste tu contraseña?" -------------------------------------------------------------------


def test_the_sign_in_page_links_to_the_reset(client):
    assert "¿Olvidaste tu contraseña?" in client.get("/ingresar").get_data(as_text=True)


def test_a_reset_link_reaches_the_inbox_and_sets_a_new_password(app, client, db, smtp):  # noqa: F811
    user = make_user(run="11111111-1", email="ana@demo.cl")
    other_browser = app.test_client()
    login(other_browser, user)

    response = client.post("/clave/olvide", data={"identifier": "11.111.111-1"}, follow_redirects=True)
    assert SENT in response.get_data(as_text=True)
    app.test_cli_runner().invoke(args=["sweep"])

    [mail] = smtp.messages
    assert mail["To"] == "ana@demo.cl" and "Restablece tu contraseña" in mail["Subject"]
    path = LINK.search(mail.get_content()).group(0).removeprefix("http://localhost")
    response = client.post(path, data={"new": "nueva-clave-77", "confirm": "nueva-clave-77"}, follow_redirects=True)

    assert "Tu nueva contraseña quedó guardada" in response.get_data(as_text=True)
    assert client.post("/ingresar", data={"identifier": user.email, "password": "nueva-clave-77"}
                       ).status_code == 302
    assert other_browser.get("/").status_code == 302  # the old sign-in ended
    used = client.get(path)
    assert used.status_code == 410 and "Este enlace ya no sirve" in used.get_data(as_text=True)


def test_the_answer_is_the_same_for_an_unknown_account_and_nothing_is_sent(client, db):
    make_user(run="11111111-1", email=None)
    for identifier in ("nadie@otec.cl", "22222222-2", "11111111-1"):  # the last has no e-mail address
        response = client.post("/clave/olvide", data={"identifier": identifier}, follow_redirects=True)
        assert SENT in response.get_data(as_text=True)
    assert _outbox("reset") == []


def test_the_link_points_to_the_public_address_whatever_host_the_request_named(client, db):
    make_user(email="ana@demo.cl")
    client.post("/clave/olvide", data={"identifier": "ana@demo.cl"}, headers={"Host": "evil.example"})
    [message] = _outbox("reset")
    assert "http://localhost/clave/restablecer/" in message.body and "evil.example" not in message.body


class _TwoHoursAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 7200


def test_an_expired_or_forged_link_is_refused(app, client, db):
    user = make_user()
    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=reset.SALT, signer=_TwoHoursAgo).dumps(
        {"u": user.id, "f": reset._fingerprint(user), "p": "reset"})
    forged = URLSafeTimedSerializer("otra-clave", salt=reset.SALT).dumps(
        {"u": user.id, "f": reset._fingerprint(user), "p": "reset"})
    for token in (old, forged, "basura"):
        response = client.post(f"/clave/restablecer/{token}", data={"new": "x" * 10, "confirm": "x" * 10})
        assert response.status_code == 410
    assert login(client, user)  # the password did not change


def test_a_new_password_must_be_confirmed(client, db):
    user = make_user(email="ana@demo.cl")
    path = f"/clave/restablecer/{reset.make_token(user)}"
    response = client.post(path, data={"new": "nueva-clave-77", "confirm": "otra"})
    assert response.status_code == 422 and "Las contraseñas no coinciden." in response.get_data(as_text=True)
    assert login(client, user)


# --- Staff force a reset ----------------------------------------------------------------------------


def test_staff_force_a_reset(app, client, db, admin):
    user = make_user(full_name="Ana Pérez", email="ana@demo.cl")
    login(client, user)

    response = admin.post(f"/admin/usuarios/{user.id}/restablecer-clave", follow_redirects=True)

    assert "Se envió a ana@demo.cl un enlace" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # signed out everywhere
    [message] = _outbox("reset")
    assert message.recipients == ["ana@demo.cl"]
    client.post("/ingresar", data={"identifier": user.email, "password": PASSWORD})
    assert client.get("/").headers["Location"].endswith("/clave")  # the old password only opens the change page
