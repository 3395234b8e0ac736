"""Who must hold an open SENCE session to see a course's content, and that session (the hot path)."""

from datetime import datetime

from sqlalchemy import select

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


def live_session(user_id: int, course_id: int, now: datetime | None = None) -> SenceSession | None:
    """The participant's open, unexpired session in the course: one query on the (user, course, status) index."""
    now = now or utcnow()
    return db.session.execute(
        select(SenceSession)
        .where(
            SenceSession.user_id == user_id,
            SenceSession.course_id == course_id,
            SenceSession.status.in_(("open", "close_failed")),
            SenceSession.expires_at > now,
        )
        .order_by(SenceSession.started_at.desc())
        .limit(1)
    ).scalar_one_or_none()
