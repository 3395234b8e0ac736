"""Close-out rules: the DJ checklist, the deadlines as of today, and the steps the OTEC ticks off.

Who goes on the OTEC's DJ (OTEC-CYCLE.md §3): the participants who completed the course, approved or not
("independiente si aprobó"), with at least one counted SENCE session. "Completed" is the course status of
app/evaluations: anything but "cursando".
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.auth.models import User
from app.closeout import deadlines as dl
from app.closeout.models import STEP_KEYS, Closeout
from app.courses.models import Course, Enrollment
from app.evaluations.status import ParticipantStatus, course_statuses
from app.extensions import db
from app.timeutil import today_in_chile, utcnow

STATUS_LABELS = {"cursando": "Cursando", "aprobado": "Aprobado", "reprobado": "Reprobado"}


class RuleError(ValueError):
    """Refused; `str()` is a Spanish message and nothing was stored."""


@dataclass
class ChecklistLine:
    user: User
    status: ParticipantStatus
    reasons: list[str] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status.status, self.status.status)


@dataclass
class Checklist:
    qualifying: list[ChecklistLine] = field(default_factory=list)
    not_qualifying: list[ChecklistLine] = field(default_factory=list)


def _why_not(status) -> list[str]:
    reasons = []
    if status.status == "cursando":
        reasons.append("No ha terminado el curso (estado «cursando»)"
                       + (f": {'; '.join(status.reasons)}" if status.reasons else "."))
    if not status.counted_sessions:
        reasons.append("Sin sesiones SENCE contadas: GCA no le permite emitir su DJ.")
    return reasons


def checklist(course: Course, now: datetime | None = None) -> Checklist:
    statuses = course_statuses(course.id, now=now)
    users = db.session.execute(
        select(User).join(Enrollment, Enrollment.user_id == User.id).where(Enrollment.course_id == course.id)
        .order_by(User.full_name)
    ).scalars().all()
    result = Checklist()
    for user in users:
        status = statuses.get(user.id)
        if status is None:
            continue
        reasons = _why_not(status)
        target = result.not_qualifying if reasons else result.qualifying
        target.append(ChecklistLine(user, status, reasons))
    return result


def qualifying_users(course: Course, now: datetime | None = None) -> list[User]:
    return [line.user for line in checklist(course, now).qualifying]


def closeout_of(course: Course) -> Closeout:
    """The stored row, or an unsaved blank one (a visit to the page writes nothing)."""
    return db.session.get(Closeout, course.id) or Closeout(course_id=course.id)


def course_deadlines(course: Course, today: date | None = None) -> list[dl.Deadline]:
    if course.end_date is None:
        return []
    return dl.deadlines(course.end_date, today or today_in_chile())


def ensure_rows(today: date, course_id: int | None = None) -> None:
    """A close-out row for every course that ended in the last LIQUIDATION_DAYS (or for one course)."""
    ended = select(Course.id).where(~exists().where(Closeout.course_id == Course.id))
    if course_id is not None:
        ended = ended.where(Course.id == course_id)
    else:
        ended = ended.where(Course.end_date < today,
                            Course.end_date >= today - timedelta(days=dl.LIQUIDATION_DAYS))
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(Closeout).from_select(["course_id"], ended)
                       .on_conflict_do_nothing(index_elements=["course_id"]))
    db.session.commit()


def set_step(course: Course, step: str, done: bool, by: User | None) -> Closeout:
    if step not in STEP_KEYS:
        raise RuleError("Ese paso no existe.")
    if course.end_date is None:
        raise RuleError("El curso no tiene fecha de término: defínela antes de registrar el cierre.")
    ensure_rows(today_in_chile(), course_id=course.id)
    row = db.session.get(Closeout, course.id, with_for_update=True)
    setattr(row, f"{step}_at", utcnow() if done else None)
    setattr(row, f"{step}_by_id", by.id if done and by is not None else None)
    db.session.commit()
    return row
