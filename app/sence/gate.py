"""Who must hold an open SENCE session to see a course's content, and that session (the hot path)."""

from datetime import datetime

from flask import g, has_request_context
from sqlalchemy import bindparam, literal, select

from app.auth.access import enrollment_of
from app.extensions import db
from app.sence.models import Attempt, CourseSence, SenceSession
from app.timeutil import utcnow


def is_gated(user, course) -> bool:
    """True when `user` may see `course`'s content only during an open SENCE session.

    Staff are never gated; nor are participants in one of the course's exempt groups.
    """
    if user.is_staff:
        return False
    settings: CourseSence | None = course.sence
    if settings is None or not settings.login_required:
        return False
    exempt = set(settings.exempt_group_ids or [])
    if not exempt:
        return True
    enrollment = enrollment_of(user, course.id)
    return enrollment is None or enrollment.group_id not in exempt


# Built once per process: every course request runs it, and building it cost more than running it.
_LIVE_SESSION = (
    select(SenceSession)
    .where(
        SenceSession.user_id == bindparam("user_id"),
        SenceSession.course_id == bindparam("course_id"),
        SenceSession.status.in_(("open", "close_failed")),
        SenceSession.expires_at > bindparam("now", type_=SenceSession.expires_at.type),
    )
    .order_by(SenceSession.started_at.desc())
    .limit(1)
)


def live_session(user_id: int, course_id: int, now: datetime | None = None) -> SenceSession | None:
    """The participant's open, unexpired session in the course: one query on the (user, course, status) index."""
    return db.session.execute(_LIVE_SESSION, {"user_id": user_id, "course_id": course_id, "now": now or utcnow()}
                              ).scalar_one_or_none()


_LATEST_ATTEMPT_ID = (
    select(Attempt.id).where(Attempt.user_id == bindparam("user_id"), Attempt.course_id == bindparam("course_id"))
    .order_by(Attempt.created_at.desc(), Attempt.id.desc()).limit(1).scalar_subquery()
)
_LIVE_AND_LATEST = (
    select(SenceSession, Attempt)
    .select_from(select(literal(1).label("one")).subquery())
    .outerjoin(SenceSession, SenceSession.id == _LIVE_SESSION.with_only_columns(SenceSession.id).scalar_subquery())
    .outerjoin(Attempt, Attempt.id == _LATEST_ATTEMPT_ID)
)


def live_session_and_latest_attempt(user_id: int, course_id: int, now: datetime | None = None):
    """The course page needs both the live session (the gate) and the latest attempt (the SENCE bar): one round
    trip. The attempt is kept for this request's first `latest_attempt_seen()`, the bar's."""
    row = db.session.execute(_LIVE_AND_LATEST, {"user_id": user_id, "course_id": course_id,
                                                "now": now or utcnow()}).one()
    if has_request_context():
        g.setdefault("_latest_attempts", {})[(user_id, course_id)] = row[1]
    return row[0]


def latest_attempt_seen(user_id: int, course_id: int) -> tuple[bool, Attempt | None]:
    """(True, the attempt) once, if this request already read it with the live session; else (False, None)."""
    seen = g.get("_latest_attempts", {}) if has_request_context() else {}
    if (user_id, course_id) in seen:
        return True, seen.pop((user_id, course_id))
    return False, None
