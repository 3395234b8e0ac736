"""Mi cuenta: one's own e-mail and phones (issue 11, item 5)."""

from app.extensions import db
from tests.factories import PASSWORD, login, make_user


def test_every_page_links_to_mi_cuenta(client):
    login(client, make_user(full_name="Ana Pérez"))
    page = client.get("/").get_data(as_text=True)
    assert 'href="/mi-cuenta"' in page and ">Mi cuenta</a>" in page
    account = client.get("/mi-cuenta").get_data(as_text=True)
    assert 'href="/clave"' in account and "recordatorios" in account


def test_a_participant_changes_the_contact_details_alerts_use(client):
    user = make_user(full_name="Ana Pérez", email="ana@otec.cl")
    login(client, user)
    response = client.post("/mi-cuenta", data={"email": "ana.perez@gmail.com", "phone": "+56 2 2345 6789",
                                               "mobile": "+56 9 8765 4321", "current": PASSWORD})
    assert response.status_code == 302
    assert "Tus datos de contacto fueron guardados." in client.get("/mi-cuenta").get_data(as_text=True)
    db.session.refresh(user)
    assert (user.email, user.phone, user.mobile) == ("ana.perez@gmail.com", "+56 2 2345 6789", "+56 9 8765 4321")


def test_a_wrong_password_changes_nothing(client):
    user = make_user(email="ana@otec.cl", phone="+56 2 1111 1111")
    login(client, user)
    response = client.post("/mi-cuenta", data={"email": "otro@otec.cl", "phone": "", "current": "mala"})
    assert response.status_code == 422
    assert "La contraseña actual no es correcta." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert (user.email, user.phone) == ("ana@otec.cl", "+56 2 1111 1111")


def test_an_address_of_another_account_or_an_empty_staff_address_is_refused(client):
    make_user(email="ocupado@otec.cl")
    teacher = make_user("instructor", email="irene@otec.cl")
    login(client, teacher)
    taken = client.post("/mi-cuenta", data={"email": "OCUPADO@otec.cl", "current": PASSWORD})
    assert taken.status_code == 422 and "Ese correo ya lo usa otra cuenta." in taken.get_data(as_text=True)
    empty = client.post("/mi-cuenta", data={"email": "", "current": PASSWORD})
    assert "no puede quedar vacío" in empty.get_data(as_text=True)
    bad = client.post("/mi-cuenta", data={"email": "no-es-correo", "current": PASSWORD})
    assert "Ingresa un correo válido." in bad.get_data(as_text=True)
    db.session.refresh(teacher)
    assert teacher.email == "irene@otec.cl"
