"""An attempt without answer after 15 minutes is reported as such, but it stays answerable for the session limit:
the alert and the live view say so, and a success that arrives later leaves nothing contradictory behind."""

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.notify.models import OutboxMessage
from app.notify.service import sweep
from app.sence.models import Attempt
from app.timeutil import utcnow
from tests.factories import login, make_user
from tests.notify.conftest import smtp  # noqa: F401 (the real SMTP server fixture)
from tests.sence.builders import sence_course, signed_in_participant, start, success_answer

WAITING = "Sin respuesta de SENCE después de 15 minutos; aún puede llegar"


def _unanswered_for_16_minutes(client):
    course = sence_course(alert_emails="alertas@otec.cl")
    user = signed_in_participant(client, course, full_name="Ana Pérez Rojas")
    sent = start(client, course)
    attempt = db.session.execute(select(Attempt)).scalar_one()
    attempt.created_at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    return course, user, sent


def _live_html(app):
    staff = app.test_client()
    login(staff, make_user("admin"))
    return staff.get("/reportes/en-vivo").get_data(as_text=True)


def test_the_alert_and_the_live_view_say_the_answer_may_still_come(app, client, db):
    _unanswered_for_16_minutes(client)
    assert sweep().alerts == 1
    [alert] = db.session.execute(select(OutboxMessage)).scalars().all()
    assert alert.subject.startswith("Sin respuesta de SENCE: Ana Pérez Rojas")
    assert "aún no tiene respuesta de SENCE" in alert.body and "no pudo registrar" not in alert.body
    assert WAITING + " hasta las" in alert.body
    html = _live_html(app)
    assert WAITING in html and "abandonado" not in html


def test_a_late_success_takes_back_the_alert_still_collecting(app, client, db, smtp):  # noqa: F811
    _course, _user, sent = _unanswered_for_16_minutes(client)
    sweep()
    response = app.test_client().post("/s/r", data=success_answer(sent))
    assert "Sesión SENCE iniciada" in response.get_data(as_text=True)

    assert db.session.execute(select(OutboxMessage)).scalars().all() == []  # the alert is gone, unsent
    sweep(now=utcnow() + timedelta(minutes=11))
    assert smtp.messages == []
    html = _live_html(app)
    assert WAITING not in html and "Sin fallas." in html
    assert "Ana Pérez Rojas" in html  # now among the open sessions


def test_a_late_success_after_the_alert_went_out_is_followed_up(app, client, db, smtp):  # noqa: F811
    _course, _user, sent = _unanswered_for_16_minutes(client)
    sweep()
    sweep(now=utcnow() + timedelta(minutes=11))
    assert len(smtp.messages) == 1

    app.test_client().post("/s/r", data=success_answer(sent))
    sweep(now=utcnow() + timedelta(minutes=12))
    assert len(smtp.messages) == 2
    follow_up = smtp.messages[1]
    assert follow_up["Subject"].startswith("Llegó la respuesta de SENCE: Ana Pérez Rojas")
    assert "ya no aplica" in follow_up.get_content()
    assert smtp.recipients() == ["alertas@otec.cl", "alertas@otec.cl"]
    assert WAITING not in _live_html(app)
