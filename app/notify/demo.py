"""Demo history for the OTEC's pages: an alert address, two past sessions and one failed attempt (idempotent).

Without it the attendance report, its chart and the Correos page of a fresh demo would be empty.
"""

from datetime import timedelta

from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from app.notify.service import report_failure
from app.sence.models import Attempt, SenceSession
from app.sence.protocol import new_id_sesion_alumno
from app.timeutil import utcnow

ALERT_ADDRESS = "alertas@demo.cl"
PARTICIPANT_EMAIL = "benito@demo.cl"


def seed(course) -> None:
    settings = course.sence
    if settings is None:
        return
    if not settings.alert_emails:
        settings.alert_emails = ALERT_ADDRESS
    user = db.session.execute(select(User).where(User.email == PARTICIPANT_EMAIL)).scalar_one_or_none()
    has_history = db.session.execute(select(Attempt.id).where(Attempt.course_id == course.id).limit(1)).first()
    if user is None or has_history:
        return
    now = utcnow().replace(second=0, microsecond=0)
    for days_ago, hours in ((3, 2.5), (1, 1.75)):
        started = now - timedelta(days=days_ago, hours=4)
        _closed_session(course, user, started, started + timedelta(hours=hours))
    failed = _attempt(course, user, "login", now - timedelta(hours=2), status="failed", error_codes="211")
    db.session.flush()
    report_failure(failed, now=failed.answered_at)
    db.session.flush()


def _attempt(course, user, kind, at, **fields) -> Attempt:
    settings = course.sence
    attempt = Attempt(kind=kind, id_sesion_alumno=fields.pop("id_sesion_alumno", new_id_sesion_alumno()),
                      user_id=user.id, course_id=course.id, environment=settings.environment, run_alumno=user.run,
                      cod_sence=settings.cod_sence, codigo_curso=settings.codigo_curso, linea=settings.linea,
                      created_at=at, answered_at=at + timedelta(seconds=45), **fields)
    db.session.add(attempt)
    return attempt


def _closed_session(course, user, started, closed) -> None:
    login = _attempt(course, user, "login", started - timedelta(minutes=1), status="succeeded")
    db.session.flush()
    sence_session = SenceSession(
        user_id=user.id, course_id=course.id, login_attempt_id=login.id, id_sesion_alumno=login.id_sesion_alumno,
        id_sesion_sence=f"DEMO{login.id:08d}", environment=login.environment, started_at=started,
        expires_at=started + timedelta(minutes=course.sence.session_limit_minutes), status="closed",
        closed_at=closed)
    db.session.add(sence_session)
    db.session.flush()
    login.session_id = sence_session.id
    _attempt(course, user, "logout", closed - timedelta(minutes=1), status="succeeded",
             id_sesion_alumno=login.id_sesion_alumno, session_id=sence_session.id)
