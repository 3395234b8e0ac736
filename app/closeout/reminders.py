"""The close-out mail, queued by `flask sweep` through the outbox, at most once each, on any number of servers.

- The day after a course ends: certificates for the approved participants (when the course has an OTEC) and an
  e-mail to each participant on the DJ checklist explaining how to issue their own DJ in GCA.
- In the week before day 40 and before day 60: a reminder to the course's alert addresses while the OTEC's
  checklist is not complete.

The pattern of app/notify's reminders: a course's row is claimed with SELECT ... FOR UPDATE SKIP LOCKED
(PostgreSQL; SQLite has one writer), stamped, and its mail queued in the same transaction, one course per
transaction, so a second sweep never sees it unstamped.
"""

import logging
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.certificates import service as certificates
from app.closeout import deadlines as dl
from app.closeout import service
from app.closeout.models import STEPS, Closeout
from app.courses.models import Course
from app.extensions import db
from app.notify.service import course_link, enqueue
from app.privacy.service import is_blocked
from app.timeutil import today_in_chile

log = logging.getLogger(__name__)

MAX_COURSES = 200  # per sweep and milestone; the rest wait for the next minute


def _claim(milestone: str, first_day: int, last_day: int, today: date, incomplete_only: bool,
           skip: set[int]) -> Closeout | None:
    """One course whose `milestone` is due today (today - end in [first_day, last_day]) and still unstamped."""
    stamp = getattr(Closeout, milestone)
    query = (select(Closeout).join(Course, Course.id == Closeout.course_id)
             .where(stamp.is_(None), Course.end_date <= today - timedelta(days=first_day),
                    Course.end_date >= today - timedelta(days=last_day)))
    if skip:
        query = query.where(Closeout.course_id.not_in(skip))
    if incomplete_only:
        query = query.where(Closeout.otec_dj_at.is_(None) | Closeout.participants_reminded_at.is_(None)
                            | Closeout.otic_documents_at.is_(None))
    return db.session.execute(
        query.order_by(Course.end_date, Course.id).limit(1).with_for_update(skip_locked=True, of=Closeout)
    ).scalar_one_or_none()


def _render(template: str, **context) -> str:
    return current_app.jinja_env.get_template(template).render(**context)


def _close_course(row: Closeout, now: datetime) -> int:
    """The day after the end: certificates for the approved, then the DJ e-mail to each qualifying participant."""
    course = row.course
    try:
        certificates.issue_all(course, None, commit=False, now=now)
    except certificates.RuleError as err:  # no OTEC yet: staff issue them later from the Cierre page
        log.info("course %s closed without automatic certificates: %s", course.id, err)
    queued = 0
    liquidation = course.end_date + timedelta(days=dl.LIQUIDATION_DAYS)
    for user in service.qualifying_users(course, now):
        if not user.email or is_blocked(user.id):  # a block (Ley 21.719) stops every e-mail about them
            continue
        cert = certificates.valid_certificate(course.id, user.id)
        body = _render("closeout/mail/dj_participant.txt", user=user, course=course, certificate=cert,
                       liquidation=liquidation, link=course_link(course.id))
        enqueue("closeout", [user.email], f"Emite tu declaración jurada SENCE del curso «{course.title}»", body,
                now=now, course_id=course.id, user_id=user.id, context={"closeout": "dj_participant"})
        queued += 1
    return queued


def _remind_otec(row: Closeout, now: datetime, key: str) -> int:
    course = row.course
    recipients = course.sence.alert_email_list if course.sence is not None else []
    if not recipients:
        return 0
    deadline = next(d for d in service.course_deadlines(course, today_in_chile(now)) if d.key == key)
    pending = [label for step, label in STEPS if row.done_at(step) is None]
    body = _render("closeout/mail/otec_deadline.txt", course=course, deadline=deadline, pending=pending,
                   link=current_app.config["PUBLIC_BASE_URL"].rstrip("/")
                   + current_app.url_map.bind("localhost").build("closeout.page", {"course_id": course.id}))
    days = "hoy" if deadline.days_left == 0 else f"en {deadline.days_left} días"
    enqueue("closeout", recipients, f"Cierre del curso «{course.title}»: {deadline.label.lower()} {days}", body,
            now=now, course_id=course.id, context={"closeout": f"otec_{key}"})
    return 1


MILESTONES = (
    # stamp, days after the end (first, last), only while the checklist is incomplete, what to do
    ("closed_at", dl.DJ_FROM_DAYS, dl.LIQUIDATION_DAYS, False, _close_course),
    ("otic_reminder_at", dl.OTIC_DAYS - dl.WARN_BEFORE_DAYS, dl.OTIC_DAYS, True,
     lambda row, now: _remind_otec(row, now, "otic")),
    ("liquidation_reminder_at", dl.LIQUIDATION_DAYS - dl.WARN_BEFORE_DAYS, dl.LIQUIDATION_DAYS, True,
     lambda row, now: _remind_otec(row, now, "liquidation")),
)


def queue(now: datetime) -> int:
    """The sweep's step: every milestone due today, one course per transaction; returns the messages queued."""
    today = today_in_chile(now)
    service.ensure_rows(today)
    queued = 0
    for milestone, first_day, last_day, incomplete_only, action in MILESTONES:
        failed: set[int] = set()
        for _ in range(MAX_COURSES):
            row = _claim(milestone, first_day, last_day, today, incomplete_only, failed)
            if row is None:
                break
            course_id = row.course_id
            try:
                setattr(row, milestone, now)
                count = action(row, now)
                db.session.commit()
                queued += count
            except Exception:  # one course's problem must not stop the others' mail; the next sweep retries it
                log.exception("close-out %s failed for course %s", milestone, course_id)
                db.session.rollback()
                failed.add(course_id)
    return queued
