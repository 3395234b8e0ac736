"""Attendance and connectivity per course, one participant's history, and the live view's snapshot.

Counting rule (RCE-PROTOCOL.md, "Connectivity requirement"): only sessions opened and closed through SENCE
within their limit count. A session's limit is the one it was opened with (`expires_at`), so a later change
of the course setting does not rewrite history. Only sessions of the course's current environment count:
test and simulator sessions record nothing at SENCE. Sessions are timed by our clock at the answers' arrival;
SENCE's FechaHora is evidence beside it, and a difference over the tolerance is shown as "hora SENCE discrepante".
Overlapping counted sessions of one participant (possible in data from before the one-live-session rule)
count their overlap once.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.courses.models import Course, Enrollment
from app.extensions import db
from app.sence.models import ABANDON_AFTER, Attempt, Exchange, SenceSession
from app.sence.protocol import LINEAS, SESSION_LIMIT_MAX_MINUTES, describe
from app.timeutil import utcnow

ENVIRONMENT_LABELS = {"simulator": "Simulador", "test": "Pruebas (rcetest)", "production": "Producción (rce)"}
SESSION_LABELS = {"counted": "Cerrada a tiempo", "late": "Cerrada fuera de plazo", "expired": "Vencida sin cierre",
                  "open": "Abierta", "close_failed": "Cierre fallido",
                  "superseded": "Duplicada (otra sesión estaba abierta)"}
CLOCK_FLAG = "hora SENCE discrepante"
ORIGIN_FLAG = "origen no verificado"
LIVE_FAILURE_WINDOW = timedelta(hours=24)
LIVE_LIMIT = 200


def session_outcome(sence_session: SenceSession, now: datetime) -> str:
    """counted | late | expired | open | close_failed | superseded: what the session means for attendance now."""
    if sence_session.status == "superseded":
        return "superseded"
    if sence_session.status == "expired":
        return "expired"
    if sence_session.status == "closed":
        closed = sence_session.closed_at
        if closed is not None and sence_session.started_at <= closed <= sence_session.expires_at:
            return "counted"
        return "late"
    if sence_session.display_status(now) == "expired":
        return "expired"
    return "close_failed" if sence_session.status == "close_failed" else "open"


def session_hours(sence_session: SenceSession) -> float:
    """Hours of a closed session, never more than its own limit nor SENCE's 3 hours (older courses allowed more)."""
    most = min(sence_session.expires_at - sence_session.started_at,
               timedelta(minutes=SESSION_LIMIT_MAX_MINUTES))
    return min(sence_session.closed_at - sence_session.started_at, most).total_seconds() / 3600


def is_failed_attempt(attempt: Attempt, now: datetime) -> bool:
    return attempt.status == "failed" or attempt.display_status(now) == "abandoned"


@dataclass
class ParticipantRow:
    user: User
    group_name: str
    exempt: bool
    course_hours: float
    target: int
    sessions_counted: int = 0
    hours_counted: float = 0.0
    sessions_expired: int = 0
    failed_attempts: int = 0
    open_now: bool = False
    last_activity: datetime | None = None
    clock_flags: int = 0  # sessions whose FechaHora differs from our clock over the tolerance
    origin_flags: int = 0  # answers from an Origin that is neither SENCE's nor null

    @property
    def flags(self) -> list[str]:
        return ([CLOCK_FLAG] if self.clock_flags else []) + ([ORIGIN_FLAG] if self.origin_flags else [])

    @property
    def connectivity(self) -> float | None:
        """Hours counted over course hours, in percent with one decimal (the same figure on every export)."""
        if not self.course_hours:
            return None
        return round(self.hours_counted / self.course_hours * 100, 1)

    @property
    def met(self) -> bool | None:
        if self.exempt or self.connectivity is None:
            return None
        return self.connectivity >= self.target

    @property
    def status_label(self) -> str:
        if self.exempt:
            return "Exento"
        if self.met is None:
            return "Sin horas del curso"
        return "Cumple" if self.met else "No cumple"


@dataclass
class AttendanceReport:
    course: Course
    environment: str
    course_hours: float
    target: int
    generated_at: datetime
    rows: list[ParticipantRow] = field(default_factory=list)

    @property
    def header(self) -> list[tuple[str, str]]:
        """The course's SENCE codes and the rules applied, on top of the page and of every export."""
        settings = self.course.sence
        linea = settings.linea if settings else ""
        return [
            ("Curso", self.course.title),
            ("Código SENCE", (settings.cod_sence if settings else "") or "(en blanco)"),
            ("Código curso (ID acción)", (settings.codigo_curso if settings else "") or "(en blanco)"),
            ("Línea de capacitación", f"{linea} {LINEAS.get(linea, '')}".strip()),
            ("Ambiente", ENVIRONMENT_LABELS.get(self.environment, self.environment)),
            ("Horas del curso", _decimal_text(self.course_hours)),
            ("Meta de conectividad", f"{self.target} %"),
        ]


def _decimal_text(value: float) -> str:
    return f"{value:.1f}".replace(".", ",").removesuffix(",0")


def attendance(course: Course, now: datetime | None = None) -> AttendanceReport:
    """One row per enrolled participant, from three queries whatever the number of participants."""
    now = now or utcnow()
    settings = course.sence
    environment = settings.environment if settings else "simulator"
    report = AttendanceReport(course=course, environment=environment, course_hours=float(course.hours or 0),
                              target=settings.connectivity_target if settings else 0, generated_at=now)
    exempt_groups = set((settings.exempt_group_ids if settings else None) or [])
    rows = {}
    for enrollment in _enrollments(course.id):
        rows[enrollment.user_id] = ParticipantRow(
            user=enrollment.user, group_name=enrollment.group.name if enrollment.group else "",
            exempt=enrollment.group_id in exempt_groups, course_hours=report.course_hours, target=report.target)
    _add_sessions(rows, course.id, environment, now)
    _add_attempts(rows, course.id, environment, now)
    _add_origin_flags(rows, course.id, environment)
    report.rows = sorted(rows.values(), key=lambda r: r.user.full_name.lower())
    return report


def _enrollments(course_id: int) -> list[Enrollment]:
    return db.session.execute(
        select(Enrollment).where(Enrollment.course_id == course_id)
    ).unique().scalars().all()


def _add_sessions(rows: dict, course_id: int, environment: str, now: datetime) -> None:
    sessions = db.session.execute(
        select(SenceSession).where(SenceSession.course_id == course_id, SenceSession.environment == environment)
    ).scalars()
    counted: dict[int, list[tuple[datetime, datetime]]] = {}
    for sence_session in sessions:
        row = rows.get(sence_session.user_id)
        if row is None:
            continue
        outcome = session_outcome(sence_session, now)
        row.clock_flags += int(sence_session.time_flagged)
        if outcome == "counted":
            row.sessions_counted += 1
            counted.setdefault(row.user.id, []).append(
                (sence_session.started_at, sence_session.started_at + timedelta(hours=session_hours(sence_session))))
        elif outcome in ("late", "expired"):
            row.sessions_expired += 1
        elif outcome in ("open", "close_failed"):
            row.open_now = True
        _touch(row, sence_session.closed_at or sence_session.started_at)
    for user_id, intervals in counted.items():
        rows[user_id].hours_counted = round(union_hours(intervals), 2)


def union_hours(intervals: list[tuple[datetime, datetime]]) -> float:
    """Hours covered by the intervals, overlaps counted once."""
    total, end = 0.0, None
    for start, stop in sorted(intervals):
        if end is not None and start < end:
            start = end
        if stop > start:
            total += (stop - start).total_seconds() / 3600
            end = stop if end is None or stop > end else end
    return total


def _add_origin_flags(rows: dict, course_id: int, environment: str) -> None:
    counts = db.session.execute(
        select(Attempt.user_id, func.count())
        .join(Exchange, Exchange.attempt_id == Attempt.id)
        .where(Attempt.course_id == course_id, Attempt.environment == environment,
               Exchange.direction == "in", Exchange.flags.like("%origin%"))
        .group_by(Attempt.user_id)
    ).all()
    for user_id, count in counts:
        if user_id in rows:
            rows[user_id].origin_flags = count


def _add_attempts(rows: dict, course_id: int, environment: str, now: datetime) -> None:
    failed = or_(Attempt.status == "failed", and_(Attempt.status == "pending", _past_answer_window(now)))
    counts = db.session.execute(
        select(Attempt.user_id, func.count())
        .where(Attempt.course_id == course_id, Attempt.environment == environment, failed)
        .group_by(Attempt.user_id)
    ).all()
    for user_id, count in counts:
        if user_id in rows:
            rows[user_id].failed_attempts = count
    latest = db.session.execute(
        select(Attempt.user_id, func.max(Attempt.created_at))
        .where(Attempt.course_id == course_id, Attempt.environment == environment)
        .group_by(Attempt.user_id)
    ).all()
    for user_id, at in latest:
        if user_id in rows and at is not None:
            _touch(rows[user_id], _aware(at))


def _past_answer_window(now: datetime):
    """A pending attempt is abandoned once no answer can be accepted for it any more (see Attempt.deadline)."""
    return or_(Attempt.answerable_until < now,
               and_(Attempt.answerable_until.is_(None), Attempt.created_at < now - timedelta(minutes=180)))


def _aware(value: datetime) -> datetime:
    """func.max() bypasses the column type on SQLite, which hands back a naive UTC datetime (or text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def _touch(row: ParticipantRow, at: datetime | None) -> None:
    if at is not None and (row.last_activity is None or at > row.last_activity):
        row.last_activity = at


# --- One participant ------------------------------------------------------------------------------------


@dataclass
class SessionLine:
    sence_session: SenceSession
    outcome: str
    hours: float | None
    origin_flagged: bool = False  # an answer of this session came from an Origin that is neither SENCE's nor null

    @property
    def label(self) -> str:
        return SESSION_LABELS[self.outcome]

    @property
    def flags(self) -> list[str]:
        return ([CLOCK_FLAG] if self.sence_session.time_flagged else []) + ([ORIGIN_FLAG] if self.origin_flagged
                                                                            else [])


@dataclass
class AttemptLine:
    attempt: Attempt
    abandoned: bool  # no answer from SENCE (as opposed to an error answer)
    errors: list[tuple[str, str]]
    waiting: bool = False  # no answer yet, but one can still arrive (within the attempt's deadline)


def session_lines(course_id: int, now: datetime, user_id: int | None = None,
                  environment: str | None = None) -> list[SessionLine]:
    query = select(SenceSession).where(SenceSession.course_id == course_id)
    if user_id is not None:
        query = query.where(SenceSession.user_id == user_id)
    if environment is not None:
        query = query.where(SenceSession.environment == environment)
    lines = []
    flagged = _origin_flagged_sessions(course_id, user_id)
    for sence_session in db.session.execute(query.order_by(SenceSession.started_at.desc())).scalars():
        outcome = session_outcome(sence_session, now)
        hours = round(session_hours(sence_session), 2) if sence_session.closed_at is not None else None
        lines.append(SessionLine(sence_session, outcome, hours, sence_session.id_sesion_alumno in flagged))
    return lines


def _origin_flagged_sessions(course_id: int, user_id: int | None) -> set[str]:
    """IdSesionAlumno of the sessions with an answer (login or logout) flagged "origin": one query."""
    query = (select(Attempt.id_sesion_alumno).join(Exchange, Exchange.attempt_id == Attempt.id)
             .where(Attempt.course_id == course_id, Exchange.direction == "in", Exchange.flags.like("%origin%")))
    if user_id is not None:
        query = query.where(Attempt.user_id == user_id)
    return set(db.session.execute(query.distinct()).scalars())


def failed_attempt_lines(course_id: int, user_id: int, now: datetime) -> list[AttemptLine]:
    attempts = db.session.execute(
        select(Attempt).where(Attempt.course_id == course_id, Attempt.user_id == user_id,
                              Attempt.status.in_(("failed", "pending")))
        .order_by(Attempt.created_at.desc())
    ).scalars()
    return [_attempt_line(a, now) for a in attempts if is_failed_attempt(a, now)]


def _attempt_line(attempt: Attempt, now: datetime) -> AttemptLine:
    abandoned = attempt.status != "failed"
    codes = [c.strip() for c in (attempt.error_codes or "").split(";") if c.strip()]
    errors = [(code, describe(code).title) for code in codes]
    return AttemptLine(attempt, abandoned, errors, waiting=abandoned and now <= attempt.deadline)


# --- Live view ------------------------------------------------------------------------------------------


@dataclass
class LiveSnapshot:
    now: datetime
    open_sessions: list[SenceSession]
    pending_attempts: list[Attempt]
    failures: list[AttemptLine]

    @property
    def abandon_minutes(self) -> int:
        return int(ABANDON_AFTER.total_seconds() // 60)


def live(now: datetime | None = None, course_id: int | None = None) -> LiveSnapshot:
    """Sessions open now, attempts waiting for SENCE, failures in the last day: across all courses, or one
    course's (what its instructors may see). An attempt without answer for ABANDON_AFTER is listed among the
    failures as still answerable until its deadline; a success arriving later takes it off the list (it is no
    longer pending) and puts its session among the open ones."""
    now = now or utcnow()
    in_session_course = SenceSession.course_id == course_id if course_id is not None else True
    in_attempt_course = Attempt.course_id == course_id if course_id is not None else True
    session_people = (selectinload(SenceSession.user), selectinload(SenceSession.course))
    attempt_people = (selectinload(Attempt.user), selectinload(Attempt.course))
    open_sessions = db.session.execute(
        select(SenceSession).options(*session_people)
        .where(SenceSession.status.in_(("open", "close_failed")), SenceSession.expires_at > now, in_session_course)
        .order_by(SenceSession.expires_at).limit(LIVE_LIMIT)
    ).scalars().all()
    pending = db.session.execute(
        select(Attempt).options(*attempt_people)
        .where(Attempt.status == "pending", Attempt.created_at >= now - ABANDON_AFTER, in_attempt_course)
        .order_by(Attempt.created_at.desc()).limit(LIVE_LIMIT)
    ).scalars().all()
    since = now - LIVE_FAILURE_WINDOW
    failed = or_(and_(Attempt.status == "failed", Attempt.answered_at >= since),
                 and_(Attempt.status == "pending", Attempt.created_at < now - ABANDON_AFTER,
                      Attempt.created_at >= since))
    failures = db.session.execute(
        select(Attempt).options(*attempt_people).where(failed, in_attempt_course)
        .order_by(Attempt.created_at.desc()).limit(LIVE_LIMIT)
    ).scalars().all()
    return LiveSnapshot(now, open_sessions, pending, [_attempt_line(a, now) for a in failures])


# --- Chart ----------------------------------------------------------------------------------------------

CHART_AREA = 82  # % of the width for the bars; the rest holds the value written after each bar
CHART_LABEL_H = 18
CHART_BAR_H = 14
CHART_ROW_H = 40


def chart(report: AttendanceReport) -> dict:
    """Geometry of the inline SVG bar chart: one bar per participant, scaled to max(100 %, best), target line.

    Horizontal positions are percentages of the SVG's width, vertical ones pixels: the text keeps its size
    on a phone and on a desktop, only the bars stretch.
    """
    values = [r.connectivity or 0 for r in report.rows]
    scale_max = max([100.0, float(report.target), *values])

    def x(pct: float) -> float:
        return round(pct / scale_max * CHART_AREA, 2)

    bars = []
    for index, row in enumerate(report.rows):
        pct = row.connectivity or 0
        css = "exempt" if row.exempt else ("met" if row.met else "unmet")
        bars.append({"name": row.user.full_name[:60], "label_y": index * CHART_ROW_H + 13,
                     "bar_y": index * CHART_ROW_H + CHART_LABEL_H, "width": max(x(pct), 0.3),
                     "pct": pct, "css": css, "exempt": row.exempt})
    return {"area": CHART_AREA, "height": max(len(bars), 1) * CHART_ROW_H + 6, "bars": bars,
            "target_x": x(report.target), "bar_h": CHART_BAR_H, "scale_max": scale_max}
