from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.notify.models import OutboxMessage
from app.notify.service import backoff, enqueue, send_due, sweep
from app.timeutil import utcnow


def _queue(subject="Prueba", to=("admin@otec.cl",)):
    message = enqueue("alert", list(to), subject, "Cuerpo del mensaje.\nSegunda línea.")
    db.session.commit()
    return message


def test_a_queued_message_is_delivered_by_the_sweep(smtp):
    message = _queue("Hola")
    result = sweep()
    assert result.sent == 1
    [mail] = smtp.messages
    assert mail["Subject"] == "Hola" and mail["To"] == "admin@otec.cl"
    assert "Segunda línea." in mail.get_content()
    db.session.refresh(message)
    assert message.status == "sent" and message.sent_at is not None and message.attempts == 1


def test_with_the_smtp_server_down_the_message_waits_and_goes_out_once_it_is_back(smtp):
    message = _queue("Se cayó el correo")
    smtp.stop()
    now = utcnow()

    result = sweep(now=now)

    db.session.refresh(message)
    assert result.sent == 0 and result.failed == 1
    assert message.status == "pending" and message.attempts == 1
    assert "No se pudo enviar" in message.last_error and "Connection" in message.last_error
    assert message.next_attempt_at == now + timedelta(minutes=1)

    smtp.start()
    assert sweep(now=now + timedelta(seconds=30)).sent == 0  # still backing off
    assert sweep(now=now + timedelta(minutes=1)).sent == 1
    [mail] = smtp.messages
    assert mail["Subject"] == "Se cayó el correo"
    db.session.refresh(message)
    assert message.status == "sent" and message.attempts == 2


def test_one_failure_stops_the_batch_and_the_rest_wait_without_losing_an_attempt(smtp):
    first, second = _queue("uno"), _queue("dos")
    smtp.stop()
    sweep()
    db.session.refresh(first)
    db.session.refresh(second)
    assert (first.attempts, second.attempts) == (1, 0)
    assert second.status == "pending"


def test_back_off_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 5, 6, 7, 12)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_without_a_mail_server_messages_stay_in_the_outbox(app):
    assert app.config["MAIL_SERVER"] == ""
    message = _queue()
    result = send_due()
    db.session.refresh(message)
    assert result.sent == 0 and message.status == "pending" and message.attempts == 0


def test_a_refused_recipient_is_marked_failed_and_not_retried(smtp):
    class Refuse:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            return "550 5.1.1 Usuario desconocido"

    smtp.stop()
    smtp.inbox = Refuse()
    smtp.start()
    message = _queue(to=("nadie@otec.cl",))
    sweep()
    db.session.refresh(message)
    assert message.status == "failed"
    assert "550" in message.last_error and "Usuario desconocido" in message.last_error
    assert sweep().sent == 0
    pending = db.session.execute(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
    assert pending == []
