"""A participant's course status and why: the one answer certificates and the SIC upload read.

"cursando" until the course's end date has passed (Chile time), then "aprobado" when the course's rule is met
(final grade, lessons completed, SENCE attendance), else "reprobado". A staff override, logged with its
reason, wins over the rule. Evaluations still open and not taken are left out of the final grade; once an
evaluation has closed (or the course has ended) one not taken counts as 1.0.

SENCE sessions come from the attendance report (app/reports/service.py), so the counts agree with the
attendance page and its exports. Reading a status may submit attempts left open past their deadline.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, lazyload

from app.courses.models import Course, Enrollment, Lesson, LessonProgress
from app.evaluations.grades import MIN_GRADE, grade_text, weighted_average
from app.evaluations.grading import close_overdue, rule_for
from app.evaluations.models import CourseRule, Evaluation, EvaluationAttempt, StatusOverride
from app.extensions import db
from app.reports.service import attendance
from app.timeutil import format_chile, today_in_chile, utcnow


@dataclass(frozen=True)
class EvaluationResult:
    score_pct: Decimal  # 0–100
    grade: Decimal | None  # 1.0–7.0, None while pending manual grading
    pending_review: bool


@dataclass(frozen=True)
class ParticipantStatus:
    status: str  # "cursando" | "aprobado" | "reprobado"
    final_grade: Decimal | None  # 1.0–7.0, one decimal; None when the course has no graded evaluation yet
    reasons: tuple[str, ...]  # Spanish sentences: why this status
    overridden: bool
    lessons_completed_pct: Decimal  # 0–100
    counted_sessions: int  # SENCE sessions that count for attendance


def participant_status(course_id: int, user_id: int, *, now: datetime | None = None) -> ParticipantStatus:
    """Status of one enrolled participant; LookupError when they are not enrolled in the course."""
    statuses = course_statuses(course_id, now=now)
    if user_id not in statuses:
        raise LookupError(f"user {user_id} is not enrolled in course {course_id}")
    return statuses[user_id]


def course_statuses(course_id: int, *, now: datetime | None = None) -> dict[int, ParticipantStatus]:
    """Every enrolled participant's status, keyed by user id, in a fixed number of queries."""
    now = now or utcnow()
    course = db.session.get(Course, course_id, options=[lazyload(Course.instructors), joinedload(Course.sence)])
    if course is None:
        raise LookupError(f"course {course_id} does not exist")
    rule = rule_for(course_id)
    evaluations = graded_evaluations(course_id)
    results = counted_results(course_id, now=now)
    lessons = _lessons_pct(course_id)
    overrides = latest_overrides(course_id)
    ended = course_ended(course, now)
    statuses = {}
    for row in attendance(course, now).rows:
        user_id = row.user.id
        grade, grade_reasons, pending = final_grade(evaluations, results, user_id, ended, now)
        context = _Context(rule, ended, course, row, grade, lessons.get(user_id, Decimal("0.0")), pending)
        statuses[user_id] = _decide(context, grade_reasons, overrides.get(user_id))
    return statuses


def counted_results(course_id: int, *, now: datetime | None = None) -> dict[tuple[int, int], EvaluationResult]:
    """(user_id, evaluation_id) -> the result of the attempt that counts (best or last, as the evaluation says)."""
    close_overdue(course_id, now)
    rows = db.session.execute(
        select(EvaluationAttempt.user_id, EvaluationAttempt.evaluation_id, EvaluationAttempt.number,
               EvaluationAttempt.score_pct, EvaluationAttempt.grade, EvaluationAttempt.pending_review,
               Evaluation.counting)
        .join(Evaluation).where(Evaluation.course_id == course_id, EvaluationAttempt.submitted_at.is_not(None))
        .order_by(EvaluationAttempt.number)
    ).all()
    chosen = {}
    for row in rows:
        key = (row.user_id, row.evaluation_id)
        current = chosen.get(key)
        if current is None or row.counting == "last" or Decimal(row.score_pct) > Decimal(current.score_pct):
            chosen[key] = row
    return {key: EvaluationResult(Decimal(row.score_pct), row.grade, bool(row.pending_review))
            for key, row in chosen.items()}


def graded_evaluations(course_id: int) -> list[Evaluation]:
    """The published evaluations that weigh in the final grade, in course order of creation."""
    return list(db.session.execute(
        select(Evaluation).where(Evaluation.course_id == course_id, Evaluation.published.is_(True),
                                 Evaluation.weight > 0).order_by(Evaluation.id)
    ).scalars())


def final_grade(evaluations: list[Evaluation], results: dict, user_id: int, ended: bool,
                now: datetime) -> tuple[Decimal | None, list[str], bool]:
    """The weighted average of the grades that are in, the sentences explaining gaps, and whether any is pending."""
    parts, reasons, pending = [], [], False
    for evaluation in evaluations:
        result = results.get((user_id, evaluation.id))
        closed = ended or (evaluation.closes_at is not None and now >= evaluation.closes_at)
        if result is not None and result.pending_review:
            pending = True
            reasons.append(f"«{evaluation.title}» está pendiente de revisión.")
        elif result is not None:
            parts.append((Decimal(result.grade), Decimal(evaluation.weight)))
        elif closed:
            parts.append((MIN_GRADE, Decimal(evaluation.weight)))
            reasons.append(f"«{evaluation.title}» no fue rendida: cuenta con nota 1,0.")
    return weighted_average(parts), reasons, pending


def course_ended(course: Course, now: datetime) -> bool:
    """The course is over the day after its end date, in Chile."""
    return course.end_date is not None and today_in_chile(now) > course.end_date


def latest_overrides(course_id: int) -> dict[int, StatusOverride]:
    """The override in force per participant (the newest row; a row without status lifts it)."""
    rows = db.session.execute(
        select(StatusOverride).where(StatusOverride.course_id == course_id)
        .order_by(StatusOverride.created_at, StatusOverride.id)
    ).scalars()
    latest = {row.user_id: row for row in rows}
    return {user_id: row for user_id, row in latest.items() if row.status}


def _lessons_pct(course_id: int) -> dict[int, Decimal]:
    total = db.session.execute(select(func.count(Lesson.id)).where(Lesson.course_id == course_id)).scalar() or 0
    if not total:
        return {}
    counts = db.session.execute(
        select(LessonProgress.user_id, func.count(LessonProgress.id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .join(Enrollment, (Enrollment.user_id == LessonProgress.user_id) & (Enrollment.course_id == course_id))
        .where(Lesson.course_id == course_id).group_by(LessonProgress.user_id)
    ).all()
    return {user_id: _pct(done, total) for user_id, done in counts}


def _pct(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _number(value) -> str:
    text = f"{Decimal(str(value)):.1f}".replace(".", ",")
    return text.removesuffix(",0")


@dataclass
class _Context:
    rule: CourseRule
    ended: bool
    course: Course
    row: object  # reports.service.ParticipantRow
    grade: Decimal | None
    lessons_pct: Decimal
    pending: bool


def _checks(c: _Context) -> list[tuple[bool, str]]:
    """Each requirement of the rule as (met, sentence)."""
    checks = []
    if c.grade is not None:
        minimum = grade_text(Decimal(c.rule.min_final_grade))
        checks.append((c.grade >= Decimal(c.rule.min_final_grade),
                       f"Nota final {grade_text(c.grade)} (mínimo {minimum})"))
    if c.rule.min_lessons_pct:
        checks.append((c.lessons_pct >= c.rule.min_lessons_pct,
                       f"Lecciones completadas {_number(c.lessons_pct)} % (mínimo {c.rule.min_lessons_pct} %)"))
    if c.row.exempt:
        return checks
    if c.rule.sence_requirement == "session":
        checks.append((c.row.sessions_counted >= 1,
                       f"Sesiones SENCE contadas: {c.row.sessions_counted} (mínimo 1)"))
    elif c.rule.sence_requirement == "connectivity":
        connectivity = c.row.connectivity or 0
        checks.append((connectivity >= c.rule.min_connectivity_pct,
                       f"Conectividad SENCE {_number(connectivity)} % (mínimo {c.rule.min_connectivity_pct} %)"))
    return checks


def _decide(c: _Context, grade_reasons: list[str], override: StatusOverride | None) -> ParticipantStatus:
    checks = _checks(c)
    reasons = [f"{text}: {'cumple' if met else 'no cumple'}." for met, text in checks]
    if c.row.exempt and c.rule.sence_requirement != "none":
        reasons.append("Exento del requisito SENCE (grupo exento).")
    reasons += grade_reasons
    if not c.ended:
        end = c.course.end_date.strftime("%d-%m-%Y") if c.course.end_date else None
        reasons.insert(0, f"El curso termina el {end}." if end else "El curso no tiene fecha de término.")
        status = "cursando"
    elif c.pending:
        reasons.insert(0, "Hay evaluaciones por revisar antes de decidir el estado.")
        status = "cursando"
    else:
        status = "aprobado" if all(met for met, _ in checks) else "reprobado"
    if override is not None:
        who = override.created_by.full_name if override.created_by else "el equipo OTEC"
        reasons.insert(0, f"Estado fijado por {who} el {format_chile(override.created_at, '%d-%m-%Y')}: "
                          f"{override.status}. Motivo: {override.reason}")
        status = override.status
    return ParticipantStatus(status=status, final_grade=c.grade, reasons=tuple(reasons),
                             overridden=override is not None, lessons_completed_pct=c.lessons_pct,
                             counted_sessions=c.row.sessions_counted)
