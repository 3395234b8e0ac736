"""The requests register: a person files, staff act and answer, everything is kept; nobody sees another's."""

from datetime import timedelta

from app.privacy import service
from app.privacy.models import PrivacyRequest, RequestEvent
from tests.factories import login, make_user
from tests.privacy.helpers import build_world


def _file(client, user, kind="access", detail=""):
    login(client, user)
    response = client.post("/mis-datos/solicitudes", data={"kind": kind, "detail": detail})
    assert response.status_code == 302, response.get_data(as_text=True)
    client.post("/salir", data={"anyway": "1"})
    return PrivacyRequest.query.filter_by(user_id=user.id).order_by(PrivacyRequest.id.desc()).first()


def test_the_deadline_comes_from_the_setting(client, db):
    world = build_world()
    first = _file(client, world.ana)
    assert first.due_at - first.created_at == timedelta(days=30)
    service.set_deadline_days(10)
    second = _file(client, world.ana, "opposition", "No quiero recibir recordatorios.")
    assert second.due_at - second.created_at == timedelta(days=10)
    assert first.due_at - first.created_at == timedelta(days=30)  # a filed request keeps its deadline


def test_participants_cant_see_others_requests(client, db):
    world = build_world()
    benitos = _file(client, world.benito, "rectification", "Mi segundo apellido es Lagos Díaz.")
    login(client, world.ana)
    assert client.get(f"/mis-datos/solicitudes/{benitos.id}").status_code == 404
    page = client.get("/mis-datos").get_data(as_text=True)
    assert "Lagos Díaz" not in page and f"/mis-datos/solicitudes/{benitos.id}" not in page
    assert client.get("/admin/privacidad/solicitudes").status_code == 403
    assert client.get(f"/admin/privacidad/solicitudes/{benitos.id}").status_code == 403


def test_bad_input_changes_nothing(client, db):
    world = build_world()
    login(client, world.ana)
    response = client.post("/mis-datos/solicitudes", data={"kind": "rectification", "detail": ""})
    assert response.status_code == 422
    assert "Indica qué dato está mal" in response.get_data(as_text=True)
    response = client.post("/mis-datos/solicitudes", data={"kind": "nada", "detail": ""})
    assert response.status_code == 422
    assert PrivacyRequest.query.count() == 0


def test_staff_act_and_answer_and_every_step_is_kept(client, db):
    world = build_world()
    filed = _file(client, world.ana, "rectification", "Mi nombre es Ana María Pérez Rojas.")
    admin = make_user("admin", full_name="Carla Admin")
    login(client, admin)
    queue = client.get("/admin/privacidad/solicitudes").get_data(as_text=True)
    assert "Rectificación" in queue and "Ana Pérez Rojas" in queue and world.ana.run not in queue

    client.post(f"/admin/privacidad/solicitudes/{filed.id}/nota", data={"text": "Nombre corregido en Usuarios."})
    client.post(f"/admin/privacidad/solicitudes/{filed.id}/responder",
                data={"outcome": "accepted", "text": "Corregimos tu nombre."})
    again = client.post(f"/admin/privacidad/solicitudes/{filed.id}/responder",
                        data={"outcome": "rejected", "text": "Otra cosa."})
    assert again.status_code == 422 and "ya fue respondida" in again.get_data(as_text=True)

    db.session.expire_all()
    events = [(e.kind, e.actor_id) for e in RequestEvent.query.filter_by(request_id=filed.id).order_by(RequestEvent.id)]
    assert events == [("filed", world.ana.id), ("note", admin.id), ("answer", admin.id)]
    assert (filed.status, filed.outcome, filed.answer) == ("answered", "accepted", "Corregimos tu nombre.")

    client.post("/salir")
    login(client, world.ana)
    mine = client.get(f"/mis-datos/solicitudes/{filed.id}").get_data(as_text=True)
    assert "Acogida" in mine and "Corregimos tu nombre." in mine
    assert "Nombre corregido en Usuarios." not in mine  # staff notes are internal


def test_overdue_requests_are_flagged_in_the_queue(client, db):
    world = build_world()
    filed = _file(client, world.ana)
    filed.due_at = filed.created_at - timedelta(days=1)
    db.session.commit()
    login(client, make_user("admin"))
    assert "Vencido" in client.get("/admin/privacidad/solicitudes").get_data(as_text=True)
