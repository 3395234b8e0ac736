"""Who must hold an open SENCE session to see a course's content, and that session (the hot path)."""

from datetime import datetime

from sqlalchemy import bindparam, select

from app.auth.access import enrollment_of
from app.extensions import db
from app.sence.models import CourseSence, SenceSession
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
