"""One call per staff view or export: `record_access("attendance_export", course_id=..., people=...)`."""

from flask import request
from flask_login import current_user
from sqlalchemy import func, select

from app.courses.models import Enrollment
from app.extensions import db
from app.privacy import service


def record_access(action: str, *, course_id: int | None = None, subject_user_id: int | None = None,
                  people: int = 1) -> None:
    service.log_access(current_user.id, action, path=request.path, course_id=course_id,
                       subject_user_id=subject_user_id, people=people)


def enrolled(course_id: int) -> int:
    """How many people a whole-course export or bundle is about."""
    return db.session.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.course_id == course_id))

