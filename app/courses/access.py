"""Course access rules on the server: admins every course, instructors the courses they teach, participants the
courses they are enrolled in; and the course and enrollment rows every course request reads."""

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from functools import cached_property

from flask import abort, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import String, and_, bindparam, cast, func, select
from sqlalchemy.orm import joinedload, lazyload

from app.auth.service import ACCOUNT_ROW_READERS, NOTHING_TO_ADD
from app.courses.models import Course, Enrollment, LessonProgress, course_instructors
from app.extensions import RowSlices, db, row_copy, sql_constant


def teaches(user, course_id: int) -> bool:
    return db.session.execute(
        select(course_instructors.c.course_id).where(
            course_instructors.c.course_id == course_id, course_instructors.c.user_id == user.id
        )
    ).first() is not None


@dataclass(frozen=True)
class EnrollmentRow:
    """What access checks, the gate and the player read of an enrollment: a plain row, not an ORM object (it is
    read on every course request; an Enrollment would also join its User, bench/README.md)."""

    id: int
    group_id: int | None
    last_lesson_id: int | None
    completed: str | None  # the ids of the lessons marked completed, comma-separated (aggregated in the query)

    @property
    def completed_lesson_ids(self) -> set[int]:
        return {int(each) for each in self.completed.split(",")} if self.completed else set()


# The statements of every course request are built once per process: building one costs more than running it.
_COMPLETED = (select(func.aggregate_strings(cast(LessonProgress.lesson_id, String), sql_constant(",")))
              .where(LessonProgress.user_id == Enrollment.user_id, LessonProgress.course_id == Enrollment.course_id)
              .correlate(Enrollment).scalar_subquery())
_ENROLLMENT_COLUMNS = (Enrollment.id, Enrollment.group_id, Enrollment.last_lesson_id, _COMPLETED)
_ENROLLMENT = select(*_ENROLLMENT_COLUMNS).where(Enrollment.course_id == bindparam("course_id"),
                                                 Enrollment.user_id == bindparam("user_id"))


def _enrollments() -> dict:
    return g.setdefault("_enrollments", {}) if has_request_context() else {}


def _extras() -> dict:
    return g.setdefault("_enrollment_extras", {}) if has_request_context() else {}


def enrollment_of(user, course_id: int) -> EnrollmentRow | None:
    """The user's enrollment in the course, read once per request (the access check, the gate and the player
    all need it)."""
    cache = _enrollments()
    key = (user.id, course_id)
    if key not in cache:
        row = db.session.execute(_ENROLLMENT, {"course_id": course_id, "user_id": user.id}).first()
        cache[key] = row_copy(EnrollmentRow, row)
    return cache[key]


def forget_enrollment(user, course_id: int) -> None:
    """After a change to what the enrollment row holds (a lesson marked completed): read it again if asked."""
    _enrollments().pop((user.id, course_id), None)
    _extras().pop((user.id, course_id), None)


def can_view_course(user, course_id: int) -> bool:
    if user.is_admin:
        return True
    if user.is_instructor:
        return teaches(user, course_id)
    return enrollment_of(user, course_id) is not None


def can_edit_course(user, course_id: int) -> bool:
    """Editing content: admins, and instructors of that course."""
    return user.is_admin or (user.is_instructor and teaches(user, course_id))


@dataclass(frozen=True)
class CourseRow:
    """A participant's course as the read-only course pages use it: a plain row, not an ORM object (building a
    Course with its SENCE and SIC settings cost more than the rest of the statement, bench/README.md). The
    settings that higher layers register in COURSE_PARTS are read like the ORM's backrefs: `course.sence`."""

    id: int
    title: str
    description: str
    start_date: date | None
    end_date: date | None
    hours: Decimal
    content_version: int
    parts: dict = field(default_factory=dict, repr=False, compare=False)

    def __getattr__(self, name: str):
        parts = object.__getattribute__(self, "parts")
        if name in parts:
            return parts[name]
        raise AttributeError(name)


@dataclass(frozen=True)
class CoursePart:
    """A higher layer's one-row-per-course settings, read with the participant's course as a plain row: `row` is a
    frozen dataclass whose fields are columns of `model` (joined on model.course_id), the first one its key (NULL:
    the course has none, and the part is None)."""

    model: type
    row: type

    @cached_property  # read on every participant's course request
    def columns(self) -> tuple:
        return tuple(getattr(self.model, each.name) for each in fields(self.row))


# name -> a function making a CoursePart once the mappers are configured, registered at import (the course's
# SENCE and SIC settings); the name is the attribute that reads it (`course.sence`).
COURSE_PARTS: dict[str, Callable[[], CoursePart]] = {}
_COURSE_ROW_COLUMNS = tuple(getattr(Course, each.name) for each in fields(CourseRow) if each.name != "parts")

# Loader options for the course of every course request. Instructors load when asked for, not with every course
# page view (Course.instructors is selectin); the SENCE settings come in the same query, since the gate needs them
# on every course request. Higher layers append theirs at import, as options or as functions that make one once
# the mappers are configured (the SIC recorder: the course's SIC settings, a backref).
COURSE_LOAD_OPTIONS = [lambda: lazyload(Course.instructors), lambda: joinedload(Course.sence)]

@dataclass(frozen=True)
class EnrollmentExtra:
    """What a higher layer reads with the participant's course-and-enrollment statement instead of a statement of
    its own (a round trip per page on PostgreSQL): its columns, the outer joins they need as (target, on-clause),
    and the values of bound parameters other than course_id and user_id, made per execution."""

    columns: tuple
    joins: tuple = ()
    params: Callable[[], dict] | None = None


# name -> a function making an EnrollmentExtra once the mappers are configured, registered at import (the
# certificate's folio, the SENCE gate's live session). Read back with enrollment_extra().
ENROLLMENT_EXTRAS: dict[str, Callable[[], EnrollmentExtra]] = {}
NOT_READ = object()  # enrollment_extra(): this request did not read the enrollment with its extras

_resolved: dict = {}


def _with_enrollment(course_columns: tuple, extras: dict[str, EnrollmentExtra], parts: dict[str, CoursePart],
                     account_columns: tuple = ()):
    """The course with the user's enrollment, extras and parts; with `account_columns` (the users table's), the
    account first, and the course outer-joined to it (NULL when there is no such course)."""
    statement = select(*account_columns, *course_columns, *_ENROLLMENT_COLUMNS,
                       *(column for extra in extras.values() for column in extra.columns),
                       *(column for part in parts.values() for column in part.columns))
    users = account_columns[0].table if account_columns else None
    if users is not None:
        statement = statement.select_from(users).outerjoin(Course, Course.id == bindparam("course_id"))
    else:
        statement = statement.select_from(Course)
    statement = statement.outerjoin(
        Enrollment, and_(Enrollment.course_id == Course.id, Enrollment.user_id == bindparam("user_id")))
    for extra in extras.values():
        for target, onclause in extra.joins:
            statement = statement.outerjoin(target, onclause)
    for part in parts.values():
        statement = statement.outerjoin(part.model, part.model.course_id == Course.id)
    if users is not None:
        return statement.where(users.c.id == bindparam("user_id"))
    return statement.where(Course.id == bindparam("course_id"))


def _course_statements() -> dict:
    """The course, and the course with the user's enrollment, with COURSE_LOAD_OPTIONS and ENROLLMENT_EXTRAS;
    built once per process (again if a layer registered one since), since building them costs more than running
    them."""
    registered = (len(COURSE_LOAD_OPTIONS), tuple(ENROLLMENT_EXTRAS), tuple(COURSE_PARTS))
    if _resolved.get("registered") != registered:
        options = [option() if callable(option) else option for option in COURSE_LOAD_OPTIONS]
        extras = {name: make() for name, make in ENROLLMENT_EXTRAS.items()}
        parts = {name: make() for name, make in COURSE_PARTS.items()}
        _resolved.update(registered=registered, extras=extras, parts=parts, row_with_account=None,
                         course=select(Course).options(*options).where(Course.id == bindparam("course_id")),
                         with_enrollment=_with_enrollment((Course,), extras, {}).options(*options),
                         row_with_enrollment=_with_enrollment(_COURSE_ROW_COLUMNS, extras, parts))
    return _resolved


def _found(course: Course | None) -> Course:
    if course is None:
        abort(404)
    if has_request_context():
        g.setdefault("_courses", {})[course.id] = course  # for after-request hooks (the session's map is weak)
    return course


def course_or_404(course_id: int) -> Course:
    return _found(db.session.execute(_course_statements()["course"], {"course_id": course_id}).scalar_one_or_none())


def _course_params(statements: dict, course_id: int, user_id: int) -> dict:
    params = {"course_id": course_id, "user_id": user_id}
    for extra in statements["extras"].values():
        params.update(extra.params() if extra.params else {})
    return params


def _course_with_account(user_id: int, account_columns: tuple):
    """ACCOUNT_ROW_READERS: a request to a course's page (a course_id in its URL) that reads the account as a row
    reads the participant's course row in the same statement, kept for _participant_course_or_404. Staff's pages
    read their ORM Course and leave it unused."""
    course_id = (request.view_args or {}).get("course_id") if has_request_context() else None
    if type(course_id) is not int:
        return NOTHING_TO_ADD
    statements = _course_statements()
    if statements["row_with_account"] is None:
        statements["row_with_account"] = _with_enrollment(_COURSE_ROW_COLUMNS, statements["extras"],
                                                          statements["parts"], account_columns)
    row = db.session.connection().execute(statements["row_with_account"],
                                          _course_params(statements, course_id, user_id)).first()
    if row is None:  # no such account
        return None
    _course_rows()[(user_id, course_id)] = row[len(account_columns):]
    return row[:len(account_columns)]


ACCOUNT_ROW_READERS.append(_course_with_account)


def _course_rows() -> dict:
    return g.setdefault("_course_rows", {})


def _participant_course_or_404(user, course_id: int, *, plain: bool = False) -> Course | CourseRow:
    """The course and the participant's enrollment in one query (the enrollment is kept for enrollment_of); with
    `plain`, the course as a CourseRow, read through Core, or taken from the account's statement if it read it."""
    statements = _course_statements()
    extras: dict[str, EnrollmentExtra] = statements["extras"]
    row = _course_rows().pop((user.id, course_id), NOT_READ) if plain and has_request_context() else NOT_READ
    if row is NOT_READ:
        params = _course_params(statements, course_id, user.id)
        if plain:
            row = db.session.connection().execute(statements["row_with_enrollment"], params).first()
        else:
            row = db.session.execute(statements["with_enrollment"], params).first()
    if row is None or row[0] is None:
        abort(404)
    values = RowSlices(row)
    course = values.take(len(_COURSE_ROW_COLUMNS) if plain else 1)
    enrollment = row_copy(EnrollmentRow, values.take(len(_ENROLLMENT_COLUMNS)))
    _enrollments()[(user.id, course_id)] = enrollment
    extra_values = {name: values.take(len(extra.columns)) for name, extra in extras.items()}
    if enrollment is not None:
        _extras()[(user.id, course_id)] = extra_values
    if not plain:
        return _found(course[0])
    parts = {name: row_copy(part.row, values.take(len(part.columns))) for name, part in statements["parts"].items()}
    return _found(CourseRow(*course, parts=parts))


def enrollment_extra(user, course_id: int, name: str):
    """The values of ENROLLMENT_EXTRAS[name]'s columns for the user's enrollment, as this request read them, or
    NOT_READ when it read the enrollment without its extras (not a participant's course request): then the
    owner asks its own query."""
    return _extras().get((user.id, course_id), {}).get(name, NOT_READ)


def loaded_course(course_id: int) -> Course | CourseRow | None:
    """The course this request loaded (course_or_404, viewable_course_*), if it did; no query."""
    return g.get("_courses", {}).get(course_id) if has_request_context() else None


def viewable_course_or_abort(course_id: int, *, plain: bool = False) -> Course | CourseRow:
    """The course if the signed-in user may see it; with `plain`, a participant's comes as a CourseRow."""
    user = current_user._get_current_object()
    if user.is_authenticated and user.is_participant:
        course = _participant_course_or_404(user, course_id, plain=plain)
    else:
        course = course_or_404(course_id)
    if not can_view_course(user, course_id):
        abort(403)
    return course


def viewable_course_for_page(course_id: int) -> Course | CourseRow:
    """viewable_course_or_abort for a page that only reads the course: a participant's course comes as a CourseRow
    (staff get the ORM Course, which their pages' links and tabs use)."""
    return viewable_course_or_abort(course_id, plain=True)


def editable_course_or_abort(course_id: int) -> Course:
    course = course_or_404(course_id)
    if not can_edit_course(current_user, course_id):
        abort(403)
    return course
