"""Blocking suspends processing: no e-mail to or about the person while it lasts; `is_blocked` for the SIC."""

from datetime import timedelta

from app.notify.models import OutboxMessage
from app.notify.service import queue_reminders, report_failure, send_due
from app.privacy.service import block, file_request, is_blocked, unblock
from app.timeutil import utcnow
from tests.factories import make_user
from tests.notify.helpers import make_attempt, open_session
from tests.privacy.helpers import build_world


def _blocked_world():
    world = build_world()
    admin = make_user("admin")
    filed = file_request(world.ana, "blocking", "Mientras reviso un reclamo.")
    block(filed, admin)
    return world, admin, filed


def test_a_blocked_person_gets_no_reminder_and_others_still_do(db, smtp):
    world, _admin, _filed = _blocked_world()
    now = utcnow()
    for user in (world.ana, world.benito):
        open_session(user, world.course, started_at=now - timedelta(minutes=170))
    assert queue_reminders(now) == 1
    OutboxMessage.query.filter(OutboxMessage.subject.like("Cierra tu sesión SENCE,%")).delete()
    db.session.commit()
    send_due(now)
    assert smtp.recipients() == ["benito.soto@correo.cl"]


def test_mail_already_queued_waits_while_blocked(db, smtp):
    world, admin, filed = _blocked_world()
    send_due(utcnow())
    assert smtp.recipients() == ["benito.soto@correo.cl"]
    unblock(filed, admin)
    send_due(utcnow())
    assert sorted(smtp.recipients()) == ["ana.perez@correo.cl", "benito.soto@correo.cl"]


def test_no_failure_alert_about_a_blocked_person(db):
    world, _admin, _filed = _blocked_world()
    world.course.sence.alert_emails = "otec@correo.cl"
    db.session.commit()
    assert report_failure(make_attempt(world.ana, world.course, status="failed", error_codes="211")) is None
    assert report_failure(make_attempt(world.benito, world.course, status="failed", error_codes="211")) is not None


def test_is_blocked_and_the_staff_buttons(client, db):
    world, admin, filed = _blocked_world()
    assert is_blocked(world.ana.id) and not is_blocked(world.benito.id)
    from tests.factories import login

    login(client, admin)
    page = client.post(f"/admin/privacidad/solicitudes/{filed.id}/desbloquear", follow_redirects=True)
    assert "Bloqueo levantado." in page.get_data(as_text=True)
    assert not is_blocked(world.ana.id)
    page = client.post(f"/admin/privacidad/solicitudes/{filed.id}/desbloquear", follow_redirects=True)
    assert "no está bloqueada" in page.get_data(as_text=True)
