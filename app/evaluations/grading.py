"""Scoring answers, submitting attempts and closing overdue ones: shared by the player and the status service.

Automatic kinds are scored when the attempt is submitted; "open" answers wait for the instructor. An attempt
left open past its deadline (time limit or closing date) is submitted by the server with what was saved by
then, the first time anyone reads it: correctness never waits for a background job (DESIGN.md).
"""

import re
import unicodedata
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.evaluations.grades import score_pct, to_grade
from app.evaluations.models import CourseRule, Evaluation, EvaluationAttempt, Question
from app.extensions import db
from app.timeutil import utcnow

ZERO = Decimal("0")


def rule_for(course_id: int) -> CourseRule:
    """The course's rule, or the defaults (60 %, 4.0, no lesson minimum, one counted SENCE session)."""
    rule = db.session.get(CourseRule, course_id)
    if rule is None:
        rule = CourseRule(course_id=course_id, exigencia_pct=60, min_final_grade=Decimal("4.0"), min_lessons_pct=0,
                          sence_requirement="session", min_connectivity_pct=0)
    return rule


def normalize_text(value: str) -> str:
    """Case, accents and spacing do not make a short answer wrong."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def parse_number(value: str) -> Decimal | None:
    """12,5 or 12.5 (and 1.234,5 as Chileans write thousands)."""
    text = (value or "").strip().replace(" ", "")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", text):
        text = text.replace(".", "")
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def answer_points(question: Question, value: dict | None) -> Decimal | None:
    """Points the answer earns; None for an open question (graded by hand)."""
    value = value or {}
    if question.kind == "open":
        return None
    if question.kind in ("single", "truefalse", "multiple"):
        chosen = {int(i) for i in value.get("options", [])}
        correct = {o.id for o in question.options if o.correct}
        return Decimal(question.points) if chosen and chosen == correct else ZERO
    text = value.get("text", "")
    if question.kind == "short":
        accepted = {normalize_text(each) for each in question.expected.split("|") if each.strip()}
        return Decimal(question.points) if normalize_text(text) in accepted else ZERO
    number, expected = parse_number(text), parse_number(question.expected)
    if number is None or expected is None:
        return ZERO
    return Decimal(question.points) if abs(number - expected) <= Decimal(question.tolerance or 0) else ZERO


def effective_deadline(attempt: EvaluationAttempt, evaluation: Evaluation) -> datetime | None:
    limits = [t for t in (attempt.deadline_at, evaluation.closes_at) if t is not None]
    return min(limits) if limits else None


def is_overdue(attempt: EvaluationAttempt, evaluation: Evaluation, now: datetime) -> bool:
    deadline = effective_deadline(attempt, evaluation)
    return not attempt.submitted and deadline is not None and now >= deadline


def submit(attempt: EvaluationAttempt, now: datetime, *, late: bool = False) -> None:
    """Score the attempt and mark it submitted (the caller commits). Questions left blank score 0."""
    evaluation = attempt.evaluation
    questions = {q.id: q for q in evaluation.questions}
    answers = {a.question_id: a for a in attempt.answers}
    ids = [qid for qid in attempt.question_order if qid in questions] or list(questions)
    for qid in ids:
        answer = answers.get(qid)
        if answer is not None:
            answer.points = answer_points(questions[qid], answer.value)
    attempt.submitted_at = now
    attempt.submitted_late = late
    attempt.pending_review = bool(evaluation.manual_review)
    _score(attempt, [questions[q] for q in ids], answers)


def _score(attempt: EvaluationAttempt, questions: list[Question], answers: dict) -> None:
    earned = sum((answers[q.id].points or ZERO for q in questions if q.id in answers), ZERO)
    total = sum((Decimal(q.points) for q in questions), ZERO)
    attempt.score_points, attempt.max_points = earned, total
    attempt.score_pct = score_pct(earned, total)
    exigencia = rule_for(attempt.evaluation.course_id).exigencia_pct
    attempt.grade = None if attempt.pending_review else grade_of(attempt, exigencia)


def grade_of(attempt: EvaluationAttempt, exigencia_pct: int) -> Decimal:
    """From the exact points, not the rounded percentage: 5 of 6 points is 5.75 -> 5.8, not 83.33 % -> 5.7."""
    exact = Decimal(attempt.score_points) * 100 / Decimal(attempt.max_points) if attempt.max_points else ZERO
    return to_grade(exact, exigencia_pct)


def rescore(attempt: EvaluationAttempt) -> None:
    """Recompute score and grade from the answers' points (after manual grading; the caller commits)."""
    questions = {q.id: q for q in attempt.evaluation.questions}
    ids = [qid for qid in attempt.question_order if qid in questions] or list(questions)
    _score(attempt, [questions[q] for q in ids], {a.question_id: a for a in attempt.answers})


def close_overdue(course_id: int, now: datetime | None = None, user_id: int | None = None) -> int:
    """Submit every attempt of the course left open past its deadline; returns how many. One query when none."""
    now = now or utcnow()
    query = (
        select(EvaluationAttempt).join(Evaluation)
        .options(selectinload(EvaluationAttempt.answers))
        .where(Evaluation.course_id == course_id, EvaluationAttempt.submitted_at.is_(None),
               or_(EvaluationAttempt.deadline_at <= now, Evaluation.closes_at <= now))
    )
    if user_id is not None:
        query = query.where(EvaluationAttempt.user_id == user_id)
    overdue = db.session.execute(query).scalars().all()
    for attempt in overdue:
        submit(attempt, effective_deadline(attempt, attempt.evaluation), late=True)
    if overdue:
        db.session.commit()
    return len(overdue)
