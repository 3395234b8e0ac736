"""Application logs carry ids, never a person's name, RUN, e-mail or phone."""

import logging

from app.notify.service import sweep
from tests.factories import login, make_user
from tests.privacy.helpers import build_world


def test_a_day_of_privacy_work_logs_no_personal_data(client, db, smtp, caplog):
    caplog.set_level(logging.DEBUG)
    world = build_world()
    ana = (world.ana.full_name, world.ana.run, world.ana.email, world.ana.phone)
    client.post("/ingresar", data={"identifier": world.ana.email, "password": "mala-clave"})
    login(client, world.ana)
    client.get("/mis-datos/descargar.zip")
    client.post("/mis-datos/solicitudes", data={"kind": "suppression", "detail": ""})
    client.post("/salir", data={"anyway": "1"})
    login(client, make_user("admin"))
    client.get(f"/reportes/cursos/{world.course.id}/participantes/{world.ana.id}")
    client.post("/admin/privacidad/solicitudes/1/suprimir")
    sweep()
    app_records = [r for r in caplog.records if r.name.startswith(("app", "flask", "werkzeug"))]
    text = "\n".join(r.getMessage() for r in app_records)
    for value in ana:
        assert value not in text
