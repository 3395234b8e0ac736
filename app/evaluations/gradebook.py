"""The gradebook: participants × evaluations with the counted result, attempts, final grade and status.

Built from the status service (app/evaluations/status.py), so the gradebook, its exports, certificates and
the SIC upload all say the same thing about a participant.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from app.courses.models import Course
from app.evaluations.models import Evaluation, EvaluationAttempt
from app.evaluations.status import EvaluationResult, ParticipantStatus, counted_results, course_statuses
from app.extensions import db
from app.reports.service import attendance
from app.timeutil import utcnow

STATUS_LABELS = {"cursando": "Cursando", "aprobado": "Aprobado", "reprobado": "Reprobado"}


@dataclass
class Filters:
    status: str = ""
    group: str = ""
    search: str = ""
    pending: bool = False

    @classmethod
    def from_args(cls, args) -> "Filters":
        status = args.get("estado", "")
        return cls(status=status if status in STATUS_LABELS else "", group=args.get("grupo", "")[:100],
                   search=" ".join(args.get("q", "").split())[:100].casefold(), pending=args.get("pendientes") == "1")

    @property
    def active(self) -> bool:
        return bool(self.status or self.group or self.search or self.pending)


@dataclass
class GradebookRow:
    user: object
    group_name: str
    status: ParticipantStatus
    results: dict[int, EvaluationResult]
    attempts: dict[int, int]

    @property
    def pending(self) -> bool:
        return any(r.pending_review for r in self.results.values())

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status.status]


@dataclass
class Gradebook:
    course: Course
    evaluations: list[Evaluation]
    generated_at: datetime
    rows: list[GradebookRow] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    total: int = 0


def gradebook(course: Course, filters: Filters | None = None, now: datetime | None = None) -> Gradebook:
    filters = filters or Filters()
    now = now or utcnow()
    statuses = course_statuses(course.id, now=now)
    results = counted_results(course.id, now=now)
    attempts = _attempt_counts(course.id)
    evaluations = list(db.session.execute(
        select(Evaluation).where(Evaluation.course_id == course.id).order_by(Evaluation.id)).scalars())
    book = Gradebook(course, evaluations, now)
    for row in attendance(course, now).rows:
        uid = row.user.id
        book.rows.append(GradebookRow(
            row.user, row.group_name, statuses[uid],
            {e.id: results[(uid, e.id)] for e in evaluations if (uid, e.id) in results},
            {e.id: attempts.get((uid, e.id), 0) for e in evaluations}))
    book.total = len(book.rows)
    book.groups = sorted({r.group_name for r in book.rows if r.group_name})
    book.rows = [r for r in book.rows if _matches(r, filters)]
    return book


def _matches(row: GradebookRow, filters: Filters) -> bool:
    if filters.status and row.status.status != filters.status:
        return False
    if filters.group and row.group_name != filters.group:
        return False
    if filters.pending and not row.pending:
        return False
    if filters.search:
        haystack = f"{row.user.full_name} {row.user.run or ''} {row.user.email or ''}".casefold()
        return filters.search in haystack
    return True


def _attempt_counts(course_id: int) -> dict[tuple[int, int], int]:
    rows = db.session.execute(
        select(EvaluationAttempt.user_id, EvaluationAttempt.evaluation_id, func.count())
        .join(Evaluation).where(Evaluation.course_id == course_id, EvaluationAttempt.submitted_at.is_not(None))
        .group_by(EvaluationAttempt.user_id, EvaluationAttempt.evaluation_id)
    ).all()
    return {(user_id, evaluation_id): count for user_id, evaluation_id, count in rows}
