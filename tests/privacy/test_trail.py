"""The access trail records every staff view of a participant's detail and every export; nobody edits it."""

import csv
import io

import pytest

from app.privacy.models import AccessEvent, AppendOnlyError
from tests.factories import login, make_user
from tests.privacy.helpers import build_world


def _events(db):
    return [(e.action, e.course_id, e.subject_user_id, e.people)
            for e in db.session.query(AccessEvent).order_by(AccessEvent.id)]


def test_each_export_and_detail_view_is_recorded(client, db):
    world = build_world()
    admin = make_user("admin")
    login(client, admin)
    base = f"/reportes/cursos/{world.course.id}"
    for url in (f"{base}/asistencia.csv", f"{base}/asistencia.xlsx", f"{base}/sesiones.csv",
                f"{base}/participantes/{world.ana.id}", f"/admin/usuarios/{world.benito.id}"):
        assert client.get(url).status_code == 200
    client.get(f"{base}/asistencia")  # the list itself is not a detail view

    c = world.course.id
    assert _events(db) == [("attendance_export", c, None, 2), ("attendance_export", c, None, 2),
                           ("sessions_export", c, None, 2), ("participant_detail", c, world.ana.id, 1),
                           ("user_detail", None, world.benito.id, 1)]
    assert {e.actor_id for e in db.session.query(AccessEvent)} == {admin.id}


def test_an_instructor_export_is_recorded_too(client, db):
    world = build_world()
    instructor = make_user("instructor")
    world.course.instructors.append(instructor)
    db.session.commit()
    login(client, instructor)
    client.get(f"/reportes/cursos/{world.course.id}/asistencia.csv")
    assert _events(db) == [("attendance_export", world.course.id, None, 2)]


def test_the_admin_reads_and_exports_the_trail(client, db):
    world = build_world()
    admin = make_user("admin", full_name="Carla Admin")
    login(client, admin)
    client.get(f"/reportes/cursos/{world.course.id}/participantes/{world.ana.id}")
    html = client.get("/admin/privacidad/accesos").get_data(as_text=True)
    assert "Carla Admin" in html and "Vio el detalle de un participante" in html and "Ana Pérez Rojas" in html

    response = client.get("/admin/privacidad/accesos.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][1] == "Carla Admin" and rows[1][3] == "Vio el detalle de un participante"
    assert rows[1][6] == str(world.ana.id)
    assert _events(db)[-1] == ("trail_export", None, None, 1)  # exporting the trail is itself recorded


def test_the_trail_is_append_only(client, db):
    world = build_world()
    login(client, make_user("admin"))
    client.get(f"/reportes/cursos/{world.course.id}/asistencia.csv")
    event = db.session.query(AccessEvent).one()
    event.people = 0
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.query(AccessEvent).one())
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    assert db.session.query(AccessEvent).one().people == 2


def test_lists_mask_the_run_and_detail_pages_show_it(client, db):
    world = build_world()
    login(client, make_user("admin"))
    run = world.ana.run
    masked = f"••.•••.{run.split('-')[0][-3:]}-{run.split('-')[1]}"
    for url in ("/admin/usuarios", f"/admin/cursos/{world.course.id}/participantes",
                f"/reportes/cursos/{world.course.id}/asistencia"):
        html = client.get(url).get_data(as_text=True)
        assert masked in html and run not in html, url
    detail = client.get(f"/reportes/cursos/{world.course.id}/participantes/{world.ana.id}").get_data(as_text=True)
    assert run in detail
    export = client.get(f"/reportes/cursos/{world.course.id}/asistencia.csv").data.decode("utf-8-sig")
    assert run in export
