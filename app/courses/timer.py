"""The SENCE timer's state: what the participant must see now, read with ONE indexed query (the hot path).

The poll sends back the state it shows (`shown`); the view answers 204 when nothing changed, so the browser
ticks the clock between polls and the server decides every change of state.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache

from sqlalchemy import Integer, bindparam, func, select

from app.auth.models import User
from app.courses.models import Course, Enrollment
from app.extensions import autocommit_engine, db, sql_constant
from app.sence.models import CourseSence, SenceSession
from app.timeutil import CHILE, utcnow

WARN_BEFORE = timedelta(minutes=10)
# An expired session is pointed out for this long; after that the course page just asks for a new login.
EXPIRED_NOTICE = timedelta(hours=12)
LIVE_STATUSES = ("open", "close_failed")
# The latest of these decides the timer: a later closed session hides an older one that expired unclosed.
TIMER_STATUSES = (*LIVE_STATUSES, "expired", "closed")


@dataclass(frozen=True)
class TimerState:
    """status: none (not gated: stop polling) | locked | open | warning | expired | ended (stop polling)."""

    status: str
    now: datetime
    session_id: int | None = None
    started_at: datetime | None = None
    expires_at: datetime | None = None
    course_end: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.status}-{self.session_id or 0}"

    @property
    def content_visible(self) -> bool:
        return self.status in ("none", "open", "warning")

    @property
    def final(self) -> bool:
        """Nothing more will change for this page: the poll may stop (htmx 286)."""
        return self.status in ("none", "ended")

    @property
    def deadline(self) -> datetime | None:
        """When the participant must have closed: the session limit, or the course's end if sooner."""
        if self.expires_at is None:
            return None
        return min(self.expires_at, self.course_end) if self.course_end else self.expires_at

    @property
    def course_end_first(self) -> bool:
        return bool(self.course_end and self.expires_at and self.course_end < self.expires_at)

    @property
    def elapsed(self) -> timedelta:
        return max(self.now - self.started_at, timedelta(0)) if self.started_at else timedelta(0)

    @property
    def left(self) -> timedelta:
        return max(self.deadline - self.now, timedelta(0)) if self.deadline else timedelta(0)


def course_end(end_date) -> datetime | None:
    """A course ends at 23:59 (Chile) of its end date."""
    if end_date is None:
        return None
    return datetime.combine(end_date, time(23, 59), tzinfo=CHILE).astimezone(UTC)


def _build_query():
    """Built once: composing this statement cost more than running it (bench/README.md)."""
    user_id, course_id = bindparam("user_id"), bindparam("course_id")
    # The participant's latest session (superseded duplicates aside): live, expired, or closed (then: locked).
    latest = (
        select(SenceSession.id)
        .where(SenceSession.user_id == user_id, SenceSession.course_id == course_id,
               SenceSession.status.in_([sql_constant(status) for status in TIMER_STATUSES]))
        .order_by(SenceSession.started_at.desc(), SenceSession.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(User.role, Enrollment.group_id, Course.end_date, CourseSence.login_required,
               CourseSence.exempt_group_ids, SenceSession.id, SenceSession.started_at, SenceSession.expires_at,
               SenceSession.status)
        .select_from(Enrollment)
        .join(User, User.id == Enrollment.user_id)
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(CourseSence, CourseSence.course_id == Enrollment.course_id)
        .outerjoin(SenceSession, SenceSession.id == latest)
        .where(Enrollment.user_id == user_id, Enrollment.course_id == course_id, User.active.is_(True),
               # the cookie's session version (app/auth): a signed-out copy of the cookie gets no timer
               User.session_version == func.coalesce(bindparam("session_version", type_=Integer), User.session_version))
    )


_QUERY = _build_query()


def _poll_row(params: dict):
    """The poll's one statement. SQLite: through SQLAlchemy Core, outside the ORM session (whose statement handling
    cost more than the query). PostgreSQL: compiled once and sent on the driver, on a connection of the autocommit
    engine's pool (its check on checkout included): no BEGIN and ROLLBACK round trips (311 vs 668 µs), and no
    SQLAlchemy Connection, execution context and result, which cost more than the query itself (~50 of 110 µs a
    poll, bench/README.md). The row is converted as SQLAlchemy would (UTCDateTime's UTC)."""
    engine = autocommit_engine()
    if engine is None:
        with db.engine.connect() as connection:
            return connection.execute(_QUERY, params).first()
    statement, constants, processors = _compiled_for(engine.dialect)
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, {**constants, **params})
            row = cursor.fetchone()
    finally:
        connection.close()
    if row is None:
        return None
    return [value if process is None else process(value) for process, value in zip(processors, row, strict=True)]


@cache
def _compiled_for(dialect) -> tuple[str, dict, list]:
    """_QUERY for a driver: its SQL, its constant parameters (the LIMIT), and each column's result processor as
    SQLAlchemy applies it (None where the driver's value stands, e.g. psycopg's own JSON and dates)."""
    compiled = _QUERY.compile(dialect=dialect)
    processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                  for column in _QUERY.selected_columns]
    return compiled.string, compiled.params, processors


def timer_state(user_id: int, course_id: int, now: datetime | None = None,
                session_version: int | None = None) -> TimerState | None:
    """The participant's timer in the course, or None when they are not an active account enrolled in it.

    The user's role and active flag come in the same query, so the poll needs no User object (bench/README.md).
    """
    now = now or utcnow()
    row = _poll_row({"user_id": user_id, "course_id": course_id, "session_version": session_version})
    if row is None:
        return None
    role, group_id, end_date, login_required, exempt, session_id, started_at, expires_at, status = row
    if role != "participant" or not login_required or group_id in set(exempt or []):
        return TimerState("none", now)
    end = course_end(end_date)
    if status == "closed":
        session_id = None
    if session_id is not None and status in LIVE_STATUSES and expires_at > now:
        return _live_state(now, session_id, started_at, expires_at, end)
    if end is not None and now > end:
        return TimerState("ended", now, course_end=end)
    if session_id is not None and now - expires_at < EXPIRED_NOTICE:
        return TimerState("expired", now, session_id, started_at, expires_at, end)
    return TimerState("locked", now, course_end=end)


def live_timer_state(sence_session, course, now: datetime | None = None) -> TimerState:
    """The timer for a session the SENCE gate has just found live: the course page needs no query for it."""
    return _live_state(now or utcnow(), sence_session.id, sence_session.started_at, sence_session.expires_at,
                       course_end(course.end_date))


def _live_state(now, session_id, started_at, expires_at, end) -> TimerState:
    warn = now >= min(expires_at, end or expires_at) - WARN_BEFORE
    return TimerState("warning" if warn else "open", now, session_id, started_at, expires_at, end)
