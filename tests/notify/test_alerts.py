from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.notify.models import OutboxMessage
from app.notify.service import sweep
from app.sence.protocol import describe
from app.timeutil import utcnow
from tests.factories import enroll, make_course, make_user
from tests.notify.helpers import fail_attempt, make_attempt

SENCE = {"cod_sence": "1237894560", "codigo_curso": "RLAB-19-02-08-0071-1", "linea": 3,
         "environment": "production", "alert_emails": "alertas@otec.cl; coordinacion@otec.cl"}


def _participant_in_course(**sence):
    course = make_course(title="Excel intermedio", sence={**SENCE, **sence})
    ana = make_user(full_name="Ana Pérez Rojas", email="ana@correo.cl", run="11111111-1",
                    phone="+56 2 2345 6789", mobile="+56 9 8765 4321")
    enroll(course, ana)
    return course, ana


def _outbox():
    return db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()


def test_a_failed_login_reaches_the_alert_addresses_with_contact_data_and_meaning(smtp):
    course, ana = _participant_in_course()
    failed_at = utcnow()
    fail_attempt(ana, course, "211;204", at=failed_at)

    sweep(now=failed_at + timedelta(minutes=11))

    [mail] = smtp.messages
    assert sorted(smtp.recipients()) == ["alertas@otec.cl", "coordinacion@otec.cl"]
    assert "Ana Pérez Rojas" in mail["Subject"] and "Excel intermedio" in mail["Subject"]
    body = mail.get_content()
    for expected in ("Ana Pérez Rojas", "11111111-1", "ana@correo.cl", "+56 2 2345 6789", "+56 9 8765 4321",
                     "Excel intermedio", "1237894560", "RLAB-19-02-08-0071-1", "Producción",
                     "inicio de sesión", "Código 211", describe(211).admin_message, "Código 204",
                     describe(204).admin_message):
        assert expected in body, expected
    assert "(hora de Chile)" in body


def test_failures_within_ten_minutes_are_one_message_and_later_ones_another(smtp):
    course, ana = _participant_in_course()
    start = utcnow()
    fail_attempt(ana, course, "100", at=start)
    fail_attempt(ana, course, "100", at=start + timedelta(minutes=3))
    fail_attempt(ana, course, "210", kind="logout", at=start + timedelta(minutes=9))

    assert sweep(now=start + timedelta(minutes=5)).sent == 0  # still collecting
    sweep(now=start + timedelta(minutes=10, seconds=30))
    [grouped] = smtp.messages
    assert "(3 intentos)" in grouped["Subject"]
    body = grouped.get_content()
    assert body.count("Código 100") == 2 and "Código 210" in body and "cierre de sesión" in body

    fail_attempt(ana, course, "100", at=start + timedelta(minutes=12))
    sweep(now=start + timedelta(minutes=23))
    assert len(smtp.messages) == 2
    assert "intentos" not in smtp.messages[1]["Subject"]


def test_each_participant_gets_their_own_alert(smtp):
    course, ana = _participant_in_course()
    beto = make_user(full_name="Beto Soto")
    enroll(course, beto)
    now = utcnow()
    fail_attempt(ana, course, "100", at=now)
    fail_attempt(beto, course, "100", at=now)

    sweep(now=now + timedelta(minutes=11))

    assert sorted(m["Subject"].split(":")[1].split(" en ")[0].strip() for m in smtp.messages) == [
        "Ana Pérez Rojas", "Beto Soto"]


def test_an_attempt_left_without_answer_is_reported_once_as_abandoned(smtp):
    course, ana = _participant_in_course()
    started = utcnow() - timedelta(minutes=16)
    make_attempt(ana, course, created_at=started)
    recent = make_attempt(ana, course, created_at=utcnow() - timedelta(minutes=2))

    result = sweep()
    assert result.alerts == 1
    assert sweep().alerts == 0
    [alert] = _outbox()
    assert "sin respuesta" in alert.body
    assert "Sin respuesta de SENCE después de 15 minutos; aún puede llegar" in alert.body
    assert [f["attempt_id"] for f in alert.context["failures"]] != [recent.id]

    sweep(now=utcnow() + timedelta(minutes=11))
    assert len(smtp.messages) == 1


def test_an_unknown_code_still_explains_itself():
    course, ana = _participant_in_course()
    fail_attempt(ana, course, "999")
    [alert] = _outbox()
    assert "Código 999: Error no documentado de SENCE" in alert.body


def test_no_alert_is_queued_when_the_course_has_no_alert_address():
    course, ana = _participant_in_course(alert_emails="")
    fail_attempt(ana, course, "211")
    assert _outbox() == []


def test_a_name_with_a_line_break_cannot_inject_mail_headers(smtp):
    course, ana = _participant_in_course()
    ana.full_name = "Ana\r\nBcc: intruso@example.com"
    db.session.commit()
    now = utcnow()
    fail_attempt(ana, course, "100", at=now)
    sweep(now=now + timedelta(minutes=11))
    [mail] = smtp.messages
    assert "intruso@example.com" not in smtp.recipients()
    assert mail["Bcc"] is None


def test_an_error_answer_through_the_real_callback_queues_the_alert(client, app, smtp):
    from tests.sence.builders import error_answer, sence_course, signed_in_participant, start

    course = sence_course(alert_emails="alertas@otec.cl", environment="test")
    ana = signed_in_participant(client, course, full_name="Ana Pérez Rojas", phone="+56 2 2345 6789",
                                mobile="+56 9 8765 4321")
    sent = start(client, course)
    stranger = app.test_client()
    stranger.post("/s/e", data=error_answer(sent, "211;204"))

    [alert] = _outbox()
    assert alert.status == "pending" and alert.user_id == ana.id
    sweep(now=utcnow() + timedelta(minutes=11))
    [mail] = smtp.messages
    body = mail.get_content()
    assert "Ana Pérez Rojas" in body and ana.run in body and "+56 9 8765 4321" in body
    assert "Pruebas (rcetest)" in body and "Código 211" in body and describe(204).admin_message in body
