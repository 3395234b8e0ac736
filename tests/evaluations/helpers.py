"""Evaluations for tests: built through the models, taken through the real grading code."""

from datetime import timedelta
from decimal import Decimal

from app.evaluations.grading import submit
from app.evaluations.models import Answer, Evaluation, EvaluationAttempt, Option, Question
from app.extensions import db
from app.timeutil import utcnow
from tests.factories import open_session


def make_evaluation(course, questions=None, **fields) -> Evaluation:
    """`questions`: (kind, points, options-or-expected) tuples; options as [(text, correct), ...]."""
    defaults = {"title": "Prueba 1", "published": True}
    defaults.update(fields)
    evaluation = Evaluation(course_id=course.id, **defaults)
    for position, (kind, points, spec) in enumerate(questions or [("single", 1, [("Sí", True), ("No", False)])], 1):
        question = Question(kind=kind, text=f"Pregunta {position}", points=Decimal(str(points)), position=position)
        if isinstance(spec, list):
            question.options = [Option(text=text, correct=correct, position=n) for n, (text, correct) in
                                enumerate(spec, 1)]
        else:
            question.expected = spec or ""
        evaluation.questions.append(question)
    db.session.add(evaluation)
    db.session.commit()
    return evaluation


def right_answer(question) -> dict:
    if question.options:
        return {"options": [o.id for o in question.options if o.correct]}
    return {"text": question.expected.split("|")[0]}


def wrong_answer(question) -> dict:
    if question.options:
        return {"options": [o.id for o in question.options if not o.correct][:1]}
    return {"text": "otra cosa"}


def take(evaluation, user, correct: int | None = None, *, submitted: bool = True, number: int = 1,
         answers: dict | None = None, **fields) -> EvaluationAttempt:
    """An attempt answering the first `correct` questions right and the rest wrong (all right by default)."""
    questions = list(evaluation.questions)
    correct = len(questions) if correct is None else correct
    attempt = EvaluationAttempt(evaluation_id=evaluation.id, user_id=user.id, number=number,
                                question_order=[q.id for q in questions], **fields)
    attempt.evaluation = evaluation
    for index, question in enumerate(questions):
        value = (answers or {}).get(question.id) or (right_answer(question) if index < correct
                                                      else wrong_answer(question))
        attempt.answers.append(Answer(question_id=question.id, value=value))
    db.session.add(attempt)
    if submitted:
        submit(attempt, utcnow())
    db.session.commit()
    return attempt


def counted_session(user, course):
    """A SENCE session opened and closed through SENCE within its limit: it counts for attendance."""
    sence_session = open_session(user, course, started_minutes_ago=90)
    sence_session.status = "closed"
    sence_session.closed_at = sence_session.started_at + timedelta(minutes=60)
    db.session.commit()
    return sence_session
