"""Server-side access rules: admins everything, instructors their courses, participants their enrolments."""

from functools import wraps

from flask import abort, g, has_request_context
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from app.courses.models import Course, Enrollment, course_instructors
from app.extensions import db


def role_required(*roles: str):
    """Signed-out users go to the sign-in page; a wrong role gets 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


admin_required = role_required("admin")


def teaches(user, course_id: int) -> bool:
    return db.session.execute(
        select(course_instructors.c.course_id).where(
            course_instructors.c.course_id == course_id, course_instructors.c.user_id == user.id
        )
    ).first() is not None


def enrollment_of(user, course_id: int) -> Enrollment | None:
    """The user's enrollment in the course, read once per request (the access check, the gate and the player
    all need it)."""
    cache = g.setdefault("_enrollments", {}) if has_request_context() else {}
    key = (user.id, course_id)
    if key not in cache:
        cache[key] = db.session.execute(
            select(Enrollment).where(Enrollment.course_id == course_id, Enrollment.user_id == user.id)
        ).scalar_one_or_none()
    return cache[key]


def can_view_course(user, course_id: int) -> bool:
    if user.is_admin:
        return True
    if user.is_instructor:
        return teaches(user, course_id)
    return enrollment_of(user, course_id) is not None


def can_edit_course(user, course_id: int) -> bool:
    """Editing content: admins, and instructors of that course."""
    return user.is_admin or (user.is_instructor and teaches(user, course_id))


# Loader options for the course of every course request. Instructors load when asked for, not with every course
# page view (Course.instructors is selectin); the SENCE settings come in the same query, since the gate needs them
# on every course request. Higher layers append theirs at import, as options or as functions that make one once
# the mappers are configured (the SIC recorder: the course's SIC settings, a backref).
COURSE_LOAD_OPTIONS = [lambda: lazyload(Course.instructors), lambda: joinedload(Course.sence)]


_resolved_options: list = []


def _course_load_options() -> list:
    """COURSE_LOAD_OPTIONS with the functions called, once per process (building an option is not free)."""
    if len(_resolved_options) != len(COURSE_LOAD_OPTIONS):
        _resolved_options[:] = [option() if callable(option) else option for option in COURSE_LOAD_OPTIONS]
    return _resolved_options


def course_or_404(course_id: int) -> Course:
    course = db.session.get(Course, course_id, options=_course_load_options())
    if course is None:
        abort(404)
    if has_request_context():
        g.setdefault("_courses", {})[course_id] = course  # for after-request hooks (the session's map is weak)
    return course


def loaded_course(course_id: int) -> Course | None:
    """The course this request loaded with course_or_404, if it did; no query."""
    return g.get("_courses", {}).get(course_id) if has_request_context() else None


def viewable_course_or_abort(course_id: int) -> Course:
    course = course_or_404(course_id)
    if not can_view_course(current_user, course_id):
        abort(403)
    return course


def editable_course_or_abort(course_id: int) -> Course:
    course = course_or_404(course_id)
    if not can_edit_course(current_user, course_id):
        abort(403)
    return course
