"""The participant's course request reads the course, the enrollment and what higher layers registered of it
(ENROLLMENT_EXTRAS) in one statement; a request that read the enrollment otherwise says so (NOT_READ)."""

from flask_login import login_user
from sqlalchemy import func, select

from app.courses.access import (
    ENROLLMENT_EXTRAS,
    NOT_READ,
    EnrollmentExtra,
    enrollment_extra,
    enrollment_of,
    forget_enrollment,
    viewable_course_or_abort,
)
from app.courses.models import Enrollment, Lesson
from tests.factories import enroll, make_course, make_user
from tests.queries import counting


def _lessons_in_course():
    return (select(func.count(Lesson.id)).where(Lesson.course_id == Enrollment.course_id)
            .correlate(Enrollment).scalar_subquery())


def _participant_with_two_lessons(db):
    course = make_course()
    db.session.add_all([Lesson(course_id=course.id, title=f"Lección {n}", position=n) for n in (1, 2)])
    user = make_user()
    enroll(course, user)
    db.session.commit()
    return course, user


def test_a_registered_extra_comes_in_the_participants_one_course_statement(app, db):
    course, user = _participant_with_two_lessons(db)
    ENROLLMENT_EXTRAS["lessons_in_course"] = lambda: EnrollmentExtra((_lessons_in_course(),))
    try:
        with app.test_request_context(f"/cursos/{course.id}"):
            login_user(user)
            with counting(db.engine) as statements:
                viewable_course_or_abort(course.id)
                assert enrollment_extra(user, course.id, "lessons_in_course") == (2,)
                assert enrollment_of(user, course.id) is not None
        assert len(statements) == 1, statements
    finally:
        del ENROLLMENT_EXTRAS["lessons_in_course"]


def test_an_enrollment_read_without_its_extras_says_not_read(app, db):
    course, user = _participant_with_two_lessons(db)
    with app.test_request_context(f"/cursos/{course.id}"):
        assert enrollment_of(user, course.id) is not None
        assert enrollment_extra(user, course.id, "certificate_folio") is NOT_READ


def test_forgetting_the_enrollment_forgets_its_extras(app, db):
    course, user = _participant_with_two_lessons(db)
    with app.test_request_context(f"/cursos/{course.id}"):
        login_user(user)
        viewable_course_or_abort(course.id)
        assert enrollment_extra(user, course.id, "certificate_folio") == (None,)  # read: no certificate
        forget_enrollment(user, course.id)
        assert enrollment_extra(user, course.id, "certificate_folio") is NOT_READ
