from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.notify.models import OutboxMessage
from app.notify.service import sweep
from app.sence.models import SenceSession
from app.timeutil import utcnow
from tests.concurrency import run_at_once
from tests.factories import enroll, make_course, make_user
from tests.notify.helpers import open_session


def _session(started_minutes_ago: int, **fields):
    course = make_course(title="Contabilidad básica")
    user = make_user(full_name="Carla Díaz", email=fields.pop("email", "carla@correo.cl"))
    enroll(course, user)
    return open_session(user, course, started_at=utcnow() - timedelta(minutes=started_minutes_ago), **fields)


def test_a_participant_is_reminded_to_close_fifteen_minutes_before_the_limit(smtp):
    sence_session = _session(started_minutes_ago=166)
    result = sweep()
    assert result.reminders == 1
    [mail] = smtp.messages
    assert smtp.recipients() == ["carla@correo.cl"]
    assert "Cierra tu sesión SENCE" in mail["Subject"] and "Contabilidad básica" in mail["Subject"]
    body = mail.get_content()
    assert "Carla Díaz" in body and "Cerrar sesión SENCE" in body
    assert f"http://localhost/cursos/{sence_session.course_id}" in body
    db.session.refresh(sence_session)
    assert sence_session.reminder_sent_at is not None


def test_a_session_is_reminded_at_most_once(smtp):
    _session(started_minutes_ago=170)
    sweep()
    sweep(now=utcnow() + timedelta(minutes=2))
    assert len(smtp.messages) == 1


@pytest.mark.parametrize(("started_minutes_ago", "fields"), [
    (100, {}),                                              # far from its limit
    (185, {}),                                              # already expired
    (170, {"status": "closed", "closed_at": utcnow()}),    # closed
    (170, {"email": None}),                                 # no address to write to
])
def test_no_reminder_outside_the_last_fifteen_minutes_of_an_open_session(smtp, started_minutes_ago, fields):
    _session(started_minutes_ago, **fields)
    assert sweep().reminders == 0
    assert smtp.messages == []


def test_the_limit_is_the_sessions_own(smtp):
    _session(started_minutes_ago=50, limit_minutes=60)
    assert sweep().reminders == 1


@pytest.mark.postgres_only
def test_two_sweeps_at_once_send_each_reminder_once(app, smtp, backend):
    if backend != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) are what this checks; SQLite has a single writer")
    sessions = [_session(started_minutes_ago=170, email=f"p{i}@correo.cl") for i in range(8)]
    now = utcnow()
    run_at_once(app, lambda: sweep(now=now))
    assert sorted(smtp.recipients()) == sorted(f"p{i}@correo.cl" for i in range(8))
    reminders = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "reminder")).scalars().all()
    assert len(reminders) == len(sessions)
    assert all(m.status == "sent" and m.attempts == 1 for m in reminders)
    stamped = db.session.execute(select(SenceSession.reminder_sent_at)).scalars().all()
    assert all(stamped)
