"""Lesson progress read in bulk: the dashboard's "Continuar" and the instructors' progress per participant.

A few grouped queries per page, never one per course or per participant.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.auth.models import User
from app.courses.models import Course, Enrollment, Lesson, LessonProgress
from app.extensions import db


@dataclass
class CourseProgress:
    done: int
    total: int
    last_lesson: Lesson | None = None
    last_completed_at: datetime | None = None

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _lesson_counts(course_ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(Lesson.course_id, func.count(Lesson.id)).where(Lesson.course_id.in_(course_ids))
        .group_by(Lesson.course_id)
    )
    return dict(rows.all())


def for_participant(user: User, courses: list[Course]) -> dict[int, CourseProgress]:
    """Per course of the participant: lessons completed of the total, and the lesson they opened last."""
    ids = [course.id for course in courses]
    if not ids:
        return {}
    totals = _lesson_counts(ids)
    done = dict(db.session.execute(
        select(LessonProgress.course_id, func.count(LessonProgress.id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.user_id == user.id, LessonProgress.course_id.in_(ids))
        .group_by(LessonProgress.course_id)
    ).all())
    last = dict(db.session.execute(
        select(Enrollment.course_id, Lesson).join(Lesson, Lesson.id == Enrollment.last_lesson_id)
        .where(Enrollment.user_id == user.id, Enrollment.course_id.in_(ids))
    ).all())
    return {i: CourseProgress(done.get(i, 0), totals.get(i, 0), last.get(i)) for i in ids}


@dataclass
class ParticipantProgress:
    user: User
    progress: CourseProgress


def for_course(course: Course) -> list[ParticipantProgress]:
    """Every participant of the course with lessons completed, last lesson opened and last completion."""
    total = _lesson_counts([course.id]).get(course.id, 0)
    stats = {user_id: (count, at) for user_id, count, at in db.session.execute(
        select(LessonProgress.user_id, func.count(LessonProgress.id), func.max(LessonProgress.completed_at))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.course_id == course.id).group_by(LessonProgress.user_id)
    ).all()}
    lessons = {lesson.id: lesson for lesson in course.lessons}
    enrollments = db.session.execute(
        select(Enrollment).join(User, User.id == Enrollment.user_id)
        .where(Enrollment.course_id == course.id).order_by(User.full_name)
    ).scalars()
    rows = []
    for enrollment in enrollments:
        count, at = stats.get(enrollment.user_id, (0, None))
        rows.append(ParticipantProgress(enrollment.user, CourseProgress(
            count, total, lessons.get(enrollment.last_lesson_id), at)))
    return rows


def lessons_of(course: Course, user: User) -> list[tuple[Lesson, datetime | None]]:
    """Each lesson of the course with when the participant completed it (None: not yet)."""
    completed = dict(db.session.execute(
        select(LessonProgress.lesson_id, LessonProgress.completed_at)
        .where(LessonProgress.course_id == course.id, LessonProgress.user_id == user.id)
    ).all())
    return [(lesson, completed.get(lesson.id)) for lesson in course.lessons]
