"""Who must hold an open SENCE session to see a course's content, and that session (the hot path)."""

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from flask import current_app, g, has_request_context, request
from sqlalchemy import bindparam, literal, select

from app.courses.access import (
    COURSE_PARTS,
    ENROLLMENT_EXTRAS,
    NOT_READ,
    CoursePart,
    EnrollmentExtra,
    enrollment_extra,
    enrollment_of,
)
from app.extensions import db, row_copy, sql_constant
from app.sence.models import Attempt, CourseSence, Otec, SenceSession, answer_deadline, email_list
from app.timeutil import utcnow


@dataclass(frozen=True)
class CourseSenceRow:
    """A course's SENCE settings as a participant's read-only pages use them (`course.sence` of a CourseRow): a
    plain row read with the course; the OTEC is read only when asked for (the login button's checks)."""

    course_id: int
    otec_id: int | None
    linea: int
    cod_sence: str
    codigo_curso: str
    environment: str
    login_required: bool
    session_limit_minutes: int
    modality: str
    connectivity_target: int
    alert_emails: str
    exempt_group_ids: list | None

    @cached_property
    def otec(self) -> Otec | None:
        return db.session.get(Otec, self.otec_id) if self.otec_id is not None else None

    @property
    def alert_email_list(self) -> list[str]:
        return email_list(self.alert_emails)


COURSE_PARTS["sence"] = lambda: CoursePart(CourseSence, CourseSenceRow)


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
        SenceSession.status.in_([sql_constant("open"), sql_constant("close_failed")]),
        SenceSession.expires_at > bindparam("now", type_=SenceSession.expires_at.type),
    )
    .order_by(SenceSession.started_at.desc())
    .limit(1)
)


def live_session(user_id: int, course_id: int, now: datetime | None = None) -> SenceSession | None:
    """The participant's open, unexpired session in the course: one query on the (user, course, status) index."""
    return db.session.execute(_LIVE_SESSION, {"user_id": user_id, "course_id": course_id, "now": now or utcnow()}
                              ).scalar_one_or_none()


@dataclass(frozen=True)
class LiveSession:
    """What the gate and the SENCE bar read of a live SenceSession: a plain row, not an ORM object (every content
    request reads it; the ORM's identity map and state cost more than the query, bench/README.md)."""

    id: int
    started_at: datetime
    expires_at: datetime
    status: str


@dataclass(frozen=True)
class LatestAttempt:
    """What the SENCE bar reads of the participant's latest Attempt (waiting for SENCE, or failed and why)."""

    id: int
    kind: str
    status: str
    error_codes: str
    created_at: datetime
    answerable_until: datetime | None

    @property
    def deadline(self) -> datetime:
        return answer_deadline(self.created_at, self.answerable_until)


_SESSION_COLUMNS = (SenceSession.id, SenceSession.started_at, SenceSession.expires_at, SenceSession.status)
_ATTEMPT_COLUMNS = (Attempt.id, Attempt.kind, Attempt.status, Attempt.error_codes, Attempt.created_at,
                    Attempt.answerable_until)
_LIVE_SESSION_ROW = _LIVE_SESSION.with_only_columns(*_SESSION_COLUMNS)
_LATEST_ATTEMPT = (
    select(*_ATTEMPT_COLUMNS)
    .where(Attempt.user_id == bindparam("user_id"), Attempt.course_id == bindparam("course_id"))
    .order_by(Attempt.created_at.desc(), Attempt.id.desc()).limit(1)
)
# The live session and the latest attempt as outer joins, for one round trip: on their own (_LIVE_AND_LATEST) or
# with the participant's course (_gate_extra).
_LIVE_JOIN = (SenceSession, SenceSession.id == _LIVE_SESSION.with_only_columns(SenceSession.id)
              .correlate(None).scalar_subquery())
_LATEST_JOIN = (Attempt, Attempt.id == _LATEST_ATTEMPT.with_only_columns(Attempt.id).correlate(None).scalar_subquery())
_LIVE_AND_LATEST = (
    select(*_SESSION_COLUMNS, *_ATTEMPT_COLUMNS)
    .select_from(select(literal(1).label("one")).subquery())
    .outerjoin(*_LIVE_JOIN).outerjoin(*_LATEST_JOIN)
)


def _gate_extra() -> EnrollmentExtra:
    return EnrollmentExtra((*_SESSION_COLUMNS, *_ATTEMPT_COLUMNS), joins=(_LIVE_JOIN, _LATEST_JOIN),
                           params=lambda: {"now": utcnow()})


ENROLLMENT_EXTRAS["sence_gate"] = _gate_extra


def changes_no_sence_session(view):
    """Marks a POST that changes no SENCE session (the answer save): like a GET, its gate may use the live session
    read with the participant's course, instead of a statement of its own."""
    view.changes_no_sence_session = True
    return view


def _changes_no_sence_session() -> bool:
    if request.method == "GET":
        return True
    return getattr(current_app.view_functions.get(request.endpoint), "changes_no_sence_session", False)


def gate_read_with_course(user, course_id: int, *, page: bool) -> tuple[bool, LiveSession | None]:
    """(True, the live session) when this request read it with the participant's course (no statement of its own).
    A GET, or a POST marked changes_no_sence_session, changes no SENCE session, so it is still what gate_session()
    would find. For a page the latest attempt is kept for the SENCE bar, as live_session_and_latest_attempt()
    keeps it. (False, None) otherwise."""
    if not has_request_context() or not _changes_no_sence_session():
        return False, None
    values = enrollment_extra(user, course_id, "sence_gate")
    if values is NOT_READ:
        return False, None
    return True, _live_and_latest(user.id, course_id, values, keep_attempt=page)


def gate_session(user_id: int, course_id: int, now: datetime | None = None) -> LiveSession | None:
    """The live session as the gate needs it (open or not, and its times): the same lookup as `live_session`,
    as a plain row. Use `live_session` to change the session."""
    row = db.session.connection().execute(_LIVE_SESSION_ROW, {"user_id": user_id, "course_id": course_id,
                                                              "now": now or utcnow()}).first()
    return row_copy(LiveSession, row)


def live_session_and_latest_attempt(user_id: int, course_id: int, now: datetime | None = None) -> LiveSession | None:
    """The course page needs both the live session (the gate) and the latest attempt (the SENCE bar): one round
    trip. The attempt is kept for this request's first `latest_attempt_seen()`, the bar's."""
    row = db.session.connection().execute(_LIVE_AND_LATEST, {"user_id": user_id, "course_id": course_id,
                                                             "now": now or utcnow()}).one()
    return _live_and_latest(user_id, course_id, row, keep_attempt=True)


def _live_and_latest(user_id: int, course_id: int, values, *, keep_attempt: bool) -> LiveSession | None:
    """The live session of a _SESSION_COLUMNS + _ATTEMPT_COLUMNS row; the attempt, if asked, kept for this
    request's first latest_attempt_seen()."""
    if keep_attempt and has_request_context():
        g.setdefault("_latest_attempts", {})[(user_id, course_id)] = row_copy(LatestAttempt, values[4:])
    return row_copy(LiveSession, values[:4])


def latest_attempt(user_id: int, course_id: int) -> LatestAttempt | None:
    """The participant's latest SENCE attempt in the course, as the SENCE bar reads it; the one this request
    already read with the live session, if it did."""
    seen, attempt = latest_attempt_seen(user_id, course_id)
    if seen:
        return attempt
    row = db.session.execute(_LATEST_ATTEMPT, {"user_id": user_id, "course_id": course_id}).first()
    return row_copy(LatestAttempt, row)


def latest_attempt_seen(user_id: int, course_id: int) -> tuple[bool, LatestAttempt | None]:
    """(True, the attempt) once, if this request already read it with the live session; else (False, None)."""
    seen = g.get("_latest_attempts", {}) if has_request_context() else {}
    if (user_id, course_id) in seen:
        return True, seen.pop((user_id, course_id))
    return False, None
