"""Close-out mail from `sweep`, through the outbox and a real SMTP server: once each, even with two sweeps."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.certificates.models import Certificate
from app.closeout.models import Closeout
from app.extensions import db
from app.notify.models import OutboxMessage
from app.sweep import CLOSEOUT
from app.sweep import mail_sweep as sweep
from app.timeutil import CHILE
from tests.closeout.helpers import finished_course, participant
from tests.concurrency import run_at_once
from tests.notify.conftest import smtp  # noqa: F401 (the real SMTP server fixture)


def _noon(course, days_after_end: int) -> datetime:
    """Midday in Chile, `days_after_end` days after the course's end date."""
    day = course.end_date + timedelta(days=days_after_end)
    return datetime(day.year, day.month, day.day, 12, tzinfo=CHILE)


def _closeout_mail():
    return db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "closeout")
                              .order_by(OutboxMessage.id)).scalars().all()


def test_the_day_after_the_end_each_qualifying_participant_is_told_how_to_issue_their_dj(smtp):  # noqa: F811
    course = finished_course(ended_days_ago=0)
    participant(course, "Ana Pérez", email="ana@correo.cl")
    participant(course, "Benito Soto", email="benito@correo.cl", sessions=0)  # no SENCE session: not on the DJ
    assert sweep(now=_noon(course, 0)).queued[CLOSEOUT.label] == 0  # the course ends today: nothing yet
    result = sweep(now=_noon(course, 1))
    assert result.queued[CLOSEOUT.label] == 1
    assert smtp.recipients() == ["ana@correo.cl"]
    [mail] = smtp.messages
    assert "declaración jurada" in mail["Subject"] and "Excel intermedio" in mail["Subject"]
    body = mail.get_content()
    assert "lce.sence.cl/certificadoasistencia" in body and "Ana Pérez" in body
    assert (course.end_date + timedelta(days=60)).strftime("%d-%m-%Y") in body
    cert = db.session.execute(select(Certificate)).scalar_one()  # issued automatically when the course closed
    assert cert.participant_name == "Ana Pérez" and cert.folio in body


def test_each_participant_is_reminded_once_however_often_the_sweep_runs(smtp):  # noqa: F811
    course = finished_course(ended_days_ago=0)
    participant(course, "Ana Pérez", email="ana@correo.cl")
    for hours in (0, 1, 25, 48):
        sweep(now=_noon(course, 1) + timedelta(hours=hours))
    assert smtp.recipients() == ["ana@correo.cl"]
    assert db.session.get(Closeout, course.id).closed_at is not None


def test_the_otec_is_reminded_before_day_40_and_day_60_while_the_checklist_is_open(smtp):  # noqa: F811
    course = finished_course(ended_days_ago=0, alert_emails="otec@capacita.cl")
    participant(course, "Ana Pérez", email="ana@correo.cl")
    sweep(now=_noon(course, 1))
    smtp.inbox.envelopes.clear()
    assert sweep(now=_noon(course, 32)).queued[CLOSEOUT.label] == 0  # more than a week before day 40
    assert sweep(now=_noon(course, 33)).queued[CLOSEOUT.label] == 1
    sweep(now=_noon(course, 35))
    [mail] = smtp.messages
    assert smtp.recipients() == ["otec@capacita.cl"]
    assert "en 7 días" in mail["Subject"]
    body = mail.get_content()
    assert (course.end_date + timedelta(days=40)).strftime("%d-%m-%Y") in body
    assert "DJ del OTEC emitida en GCA" in body and f"/cierre/cursos/{course.id}" in body
    assert sweep(now=_noon(course, 53)).queued[CLOSEOUT.label] == 1
    assert len(smtp.messages) == 2 and "Plazo de liquidación" in smtp.messages[1].get_content()


def test_no_otec_reminder_once_every_step_is_ticked(smtp):  # noqa: F811
    course = finished_course(ended_days_ago=0)
    participant(course, "Ana Pérez", email="ana@correo.cl")
    sweep(now=_noon(course, 1))
    row = db.session.get(Closeout, course.id)
    row.otec_dj_at = row.participants_reminded_at = row.otic_documents_at = _noon(course, 5)
    db.session.commit()
    assert sweep(now=_noon(course, 36)).queued[CLOSEOUT.label] == 0
    assert sweep(now=_noon(course, 58)).queued[CLOSEOUT.label] == 0


def test_a_course_that_ended_over_sixty_days_ago_gets_no_mail(smtp):  # noqa: F811
    course = finished_course(ended_days_ago=61)
    participant(course, "Ana Pérez", email="ana@correo.cl")
    assert sweep().queued[CLOSEOUT.label] == 0 and smtp.messages == []


@pytest.mark.postgres_only
def test_two_sweeps_at_once_send_each_close_out_mail_once(app, smtp, backend):  # noqa: F811
    if backend != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) are what this checks; SQLite has a single writer")
    courses = [finished_course(ended_days_ago=0, title=f"Curso {n}") for n in range(4)]
    for n, course in enumerate(courses):
        for i in range(3):
            participant(course, f"P{n}{i}", email=f"p{n}{i}@correo.cl")
    now = _noon(courses[0], 1)
    run_at_once(app, lambda: sweep(now=now))
    expected = sorted(f"p{n}{i}@correo.cl" for n in range(4) for i in range(3))
    assert sorted(smtp.recipients()) == expected
    assert len(_closeout_mail()) == 12
    certs = db.session.execute(select(Certificate)).scalars().all()
    assert len(certs) == 12 and len({(c.course_id, c.user_id) for c in certs}) == 12
