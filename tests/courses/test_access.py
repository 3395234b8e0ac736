"""The participant's course request reads the course, the enrollment and what higher layers registered of it
(ENROLLMENT_EXTRAS) in one statement; a request that read the enrollment otherwise says so (NOT_READ). A page that
only reads the course gets it as a plain row with its settings (COURSE_PARTS)."""

import pytest
from flask_login import login_user
from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden, NotFound

from app.auth.service import ACCOUNT_ROW_READERS, NOTHING_TO_ADD, load_user
from app.courses.access import (
    ENROLLMENT_EXTRAS,
    NOT_READ,
    CourseRow,
    EnrollmentExtra,
    enrollment_extra,
    enrollment_of,
    forget_enrollment,
    loaded_course,
    viewable_course_for_page,
    viewable_course_or_abort,
)
from app.courses.models import Course, Enrollment, Lesson
from app.sence.gate import CourseSenceRow
from app.sic.models import CourseSic
from app.sic.views import CourseSicRow
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
            with counting() as statements:
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


def test_a_page_that_only_reads_gets_the_participants_course_as_a_row_with_its_settings(app, db):
    course, user = _participant_with_two_lessons(db)
    course.description = "Fórmulas y tablas"
    course.sence.exempt_group_ids = [7]
    course.sence.alert_emails = "a@otec.cl; b@otec.cl"
    db.session.add(CourseSic(course_id=course.id, enabled=True, codigo_oferta="OF-1"))
    db.session.commit()
    with app.test_request_context(f"/cursos/{course.id}"):
        login_user(user)
        with counting() as statements:
            row = viewable_course_for_page(course.id)
            assert enrollment_of(user, course.id) is not None
            assert enrollment_extra(user, course.id, "certificate_folio") == (None,)
        assert len(statements) == 1, statements
        assert isinstance(row, CourseRow) and loaded_course(course.id) is row
        assert (row.id, row.title, row.description, row.end_date, row.content_version) == (
            course.id, course.title, "Fórmulas y tablas", course.end_date, course.content_version)
        assert isinstance(row.sence, CourseSenceRow)
        assert (row.sence.login_required, row.sence.exempt_group_ids) == (course.sence.login_required, [7])
        assert row.sence.alert_email_list == ["a@otec.cl", "b@otec.cl"]
        assert isinstance(row.sic, CourseSicRow) and (row.sic.enabled, row.sic.codigo_oferta) == (True, "OF-1")
        with pytest.raises(AttributeError):
            row.lessons  # noqa: B018 (a plain row has no relationships to load behind the page's back)


def test_a_course_without_settings_reads_them_as_none(app, db):
    course, user = _participant_with_two_lessons(db)
    db.session.delete(course.sence)
    db.session.commit()
    with app.test_request_context(f"/cursos/{course.id}"):
        login_user(user)
        row = viewable_course_for_page(course.id)
        assert (row.sence, row.sic) == (None, None)


def test_the_plain_course_keeps_the_access_rules(app, db):
    course, _ = _participant_with_two_lessons(db)
    stranger, admin = make_user(), make_user(role="admin")
    with app.test_request_context(f"/cursos/{course.id}"):
        login_user(stranger)
        with pytest.raises(Forbidden):
            viewable_course_for_page(course.id)
        with pytest.raises(NotFound):
            viewable_course_for_page(course.id + 1000)
    with app.test_request_context(f"/cursos/{course.id}"):
        login_user(admin)  # staff pages link to editing and tabs: they keep the ORM course
        assert isinstance(viewable_course_for_page(course.id), Course)


def test_a_course_page_reads_the_participants_course_with_the_account_in_one_statement(app, db):
    course, user = _participant_with_two_lessons(db)
    ident, title = user.get_id(), course.title
    with app.test_request_context(f"/cursos/{course.id}"):
        with counting() as statements:
            account = load_user(ident)
            login_user(account)
            row = viewable_course_for_page(course.id)
            enrollment = enrollment_of(account, course.id)
        assert len(statements) == 1 and "FROM users LEFT OUTER JOIN courses" in statements[0], statements
        assert (account.id, row.id, row.title, enrollment.id is not None) == (user.id, course.id, title, True)


def test_the_course_read_with_the_account_keeps_the_access_rules(app, db):
    course, _ = _participant_with_two_lessons(db)
    stranger = make_user()
    with app.test_request_context(f"/cursos/{course.id}"):
        login_user(load_user(stranger.get_id()))
        with pytest.raises(Forbidden):
            viewable_course_for_page(course.id)
    with app.test_request_context(f"/cursos/{course.id + 1000}"):
        login_user(load_user(stranger.get_id()))  # the account is read even where the course does not exist
        with pytest.raises(NotFound):
            viewable_course_for_page(course.id + 1000)


def test_a_request_without_a_course_in_its_url_reads_the_account_alone(app, db):
    _, user = _participant_with_two_lessons(db)
    reader, user_id = ACCOUNT_ROW_READERS[0], user.id
    with app.test_request_context("/cuenta"), counting() as statements:
        assert reader(user_id, ()) is NOTHING_TO_ADD
    assert statements == []
