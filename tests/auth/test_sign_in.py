import pytest

from app.auth.models import User
from app.extensions import db
from tests.factories import PASSWORD, login, make_user


@pytest.mark.parametrize("identifier", ["11.111.111-1", "111111111", "11111111-1"])
def test_a_participant_signs_in_with_their_run_in_any_spelling(client, identifier):
    make_user(full_name="Ana Pérez", run="11111111-1")
    response = client.post("/ingresar", data={"identifier": identifier, "password": PASSWORD})
    assert response.status_code == 302
    assert "Ana Pérez" in client.get("/").get_data(as_text=True)


def test_a_run_with_lower_case_k_signs_in(client):
    make_user(run="10000013-K")
    response = client.post("/ingresar", data={"identifier": "10.000.013-k", "password": PASSWORD})
    assert response.status_code == 302


def test_staff_sign_in_with_their_email_in_any_case(client):
    make_user("admin", email="jefa@otec.cl", full_name="Jefa OTEC")
    response = client.post("/ingresar", data={"identifier": "JEFA@otec.cl", "password": PASSWORD})
    assert response.status_code == 302
    assert "Jefa OTEC" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("identifier, password", [
    ("11111111-1", "incorrecta"), ("nadie@otec.cl", PASSWORD), ("11111111-2", PASSWORD), ("", ""),
])
def test_wrong_credentials_get_one_clear_message(client, identifier, password):
    make_user(run="11111111-1")
    response = client.post("/ingresar", data={"identifier": identifier, "password": password})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "RUN, correo o contraseña incorrectos." in page or "Ingresa tu" in page
    assert client.get("/").status_code == 302


def test_an_inactive_account_cannot_sign_in(client):
    make_user(run="11111111-1", active=False)
    response = client.post("/ingresar", data={"identifier": "11111111-1", "password": PASSWORD})
    assert "RUN, correo o contraseña incorrectos." in response.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_the_sign_in_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/ingresar")


def test_the_next_parameter_never_leaves_the_site(client):
    user = make_user()
    response = client.post("/ingresar?next=https://evil.example/", data={"identifier": user.email,
                                                                          "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_sign_out_ends_the_session(client):
    login(client, make_user())
    client.post("/salir")
    assert client.get("/").status_code == 302


def test_a_user_changes_their_password(client):
    user = make_user()
    login(client, user)
    response = client.post("/clave", data={"current": PASSWORD, "new": "nueva-clave-9", "confirm": "nueva-clave-9"})
    assert response.status_code == 302
    assert db.session.get(User, user.id).check_password("nueva-clave-9")


def test_a_wrong_current_password_changes_nothing(client):
    user = make_user()
    login(client, user)
    response = client.post("/clave", data={"current": "mala", "new": "nueva-clave-9", "confirm": "nueva-clave-9"})
    assert "La contraseña actual no es correcta." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(PASSWORD)


def test_sign_in_form_without_csrf_token_is_refused_in_spanish(client, csrf_on):
    make_user(run="11111111-1")
    response = client.post("/ingresar", data={"identifier": "11111111-1", "password": PASSWORD})
    assert response.status_code == 400
    assert "El formulario expiró" in response.get_data(as_text=True)
