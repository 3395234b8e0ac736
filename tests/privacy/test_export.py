"""'Mis datos' ZIP: everything about the person, nobody else's data, never the OTEC's token."""

import csv
import io
import json
import zipfile

from app.privacy.models import AccessEvent, PrivacyRequest
from app.sence.models import SenceSession
from tests.factories import login, make_user
from tests.privacy.helpers import build_world
from tests.sence.builders import TOKEN


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.data))


def _everything(archive: zipfile.ZipFile) -> str:
    return "\n".join(archive.read(name).decode("utf-8-sig") for name in archive.namelist())


def test_the_zip_holds_the_persons_data_and_nobody_elses(client, db):
    world = build_world()
    login(client, world.ana)
    archive = _zip(client.get("/mis-datos/descargar.zip"))

    data = json.loads(archive.read("datos.json"))
    assert data["perfil"][0]["nombre"] == "Ana Pérez Rojas"
    assert data["perfil"][0]["telefono"] == "+56 9 1111 2222"
    assert [row["curso"] for row in data["inscripciones"]] == [world.course.title]
    assert [row["leccion"] for row in data["avance_lecciones"]] == ["Tablas dinámicas"]
    assert len(data["sence_sesiones"]) == 1 and len(data["sence_intentos"]) == 1
    assert {x["servicio"] for x in data["sence_intercambios"]} == {"IniciarSesion"}
    assert len(data["sence_intercambios"]) == 2
    assert [m["asunto"] for m in data["correos"]] == ["Cierra tu sesión SENCE, Ana Pérez Rojas"]

    text = _everything(archive)
    for other in ("Benito", "benito.soto@correo.cl", world.benito.run, "+56 9 5555 6666"):
        assert other not in text
    sessions = list(csv.DictReader(io.StringIO(archive.read("sence_sesiones.csv").decode("utf-8-sig")),
                                   delimiter=";"))
    ana_session = db.session.query(SenceSession).filter_by(user_id=world.ana.id).one()
    assert [row["id_sesion_sence"] for row in sessions] == [ana_session.id_sesion_sence]
    assert {"LEEME.txt", "datos.json", "perfil.csv", "sence_intercambios.csv", "correos.csv"} <= set(
        archive.namelist())


def test_the_token_never_appears(client, db):
    world = build_world()
    login(client, world.ana)
    text = _everything(_zip(client.get("/mis-datos/descargar.zip")))
    assert TOKEN not in text
    assert "token" not in text.lower()


def test_mis_datos_page_shows_what_is_held(client, db):
    world = build_world()
    login(client, world.ana)
    html = client.get("/mis-datos").get_data(as_text=True)
    assert "Ana Pérez Rojas" in html and world.ana.run in html and world.course.title in html
    assert "Descargar mis datos (ZIP)" in html
    assert 'Tu correo y teléfono los cambias en <a href="/mi-cuenta">tu cuenta</a>' in html  # rectified there
    assert "pide una <strong>rectificación</strong>" in html  # name and RUN: through a request
    assert "Benito" not in html


def test_a_staff_bundle_is_recorded_in_the_trail_a_participants_own_is_not(client, db):
    world = build_world()
    login(client, world.ana)
    client.get("/mis-datos/descargar.zip")
    assert db.session.query(AccessEvent).count() == 0

    client.post("/mis-datos/solicitudes", data={"kind": "access", "detail": ""})
    client.post("/salir", data={"anyway": "1"})
    admin = make_user("admin")
    login(client, admin)
    request_id = db.session.query(PrivacyRequest).filter_by(user_id=world.ana.id).one().id
    archive = _zip(client.get(f"/admin/privacidad/solicitudes/{request_id}/datos.zip"))
    assert json.loads(archive.read("datos.json"))["perfil"][0]["nombre"] == "Ana Pérez Rojas"
    bundle = db.session.query(AccessEvent).filter_by(action="data_bundle").one()
    assert (bundle.actor_id, bundle.subject_user_id, bundle.people) == (admin.id, world.ana.id, 1)
