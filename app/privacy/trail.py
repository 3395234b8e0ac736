"""One call per staff view or export: `record_access("attendance_export", course_id=..., people=...)`."""

from flask import request
from flask_login import current_user

from app.privacy import service


def record_access(action: str, *, course_id: int | None = None, subject_user_id: int | None = None,
                  people: int = 1) -> None:
    service.log_access(current_user.id, action, path=request.path, course_id=course_id,
                       subject_user_id=subject_user_id, people=people)
