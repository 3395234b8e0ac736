"""Demo evaluation for «Excel intermedio»: four questions after the second lesson, and Ana's attempt (idempotent)."""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.auth.models import User
from app.evaluations.grading import submit
from app.evaluations.models import Answer, Evaluation, EvaluationAttempt, Option, Question
from app.extensions import db
from app.timeutil import utcnow

TITLE = "Control 1: tablas dinámicas y búsquedas"
QUESTIONS = (
    ("single", "¿Qué función busca en cualquier dirección en Excel 365?", 2,
     [("BUSCARV", False), ("BUSCARX", True), ("SUMAR.SI", False)], ""),
    ("multiple", "¿Qué puedes arrastrar al área **Valores** de una tabla dinámica? (marca todas)", 2,
     [("Un campo numérico como *Ventas*", True), ("Un campo de texto para contarlo", True),
      ("Un gráfico", False)], ""),
    ("truefalse", "Convertir los datos en tabla (Ctrl + T) hace que la tabla dinámica crezca con ellos.", 1,
     [("Verdadero", True), ("Falso", False)], ""),
    ("numeric", "Si 8 de 10 ventas superan la meta, ¿qué porcentaje la supera? (solo el número)", 1, [], "80"),
)


def seed(course) -> None:
    """Only when the course has no evaluation yet (keeps an instructor's own)."""
    exists = db.session.execute(select(Evaluation.id).where(Evaluation.course_id == course.id).limit(1)).first()
    if exists is not None:
        return
    lessons = list(course.lessons)
    evaluation = Evaluation(course_id=course.id, title=TITLE, position=1, published=True, weight=Decimal(1),
                            after_lesson_id=lessons[1].id if len(lessons) > 1 else None, max_attempts=2,
                            time_limit_minutes=20,
                            instructions="Cuatro preguntas. Tienes dos intentos; cuenta el mejor.")
    for position, (kind, text, points, options, expected) in enumerate(QUESTIONS, 1):
        question = Question(kind=kind, text=text, points=Decimal(points), position=position, expected=expected)
        question.options = [Option(text=t, correct=ok, position=n) for n, (t, ok) in enumerate(options, 1)]
        evaluation.questions.append(question)
    db.session.add(evaluation)
    db.session.flush()
    ana = db.session.execute(select(User).where(User.email == "ana@demo.cl")).scalar_one_or_none()
    if ana is not None:
        _anas_attempt(evaluation, ana)


def _anas_attempt(evaluation: Evaluation, ana: User) -> None:
    """Right on the first three questions, wrong on the last: 5 of 6 points."""
    started = utcnow() - timedelta(days=1)
    attempt = EvaluationAttempt(evaluation_id=evaluation.id, user_id=ana.id, number=1, started_at=started,
                                deadline_at=started + timedelta(minutes=20),
                                question_order=[q.id for q in evaluation.questions],
                                option_order={str(q.id): [o.id for o in q.options] for q in evaluation.questions})
    attempt.evaluation = evaluation
    for question in evaluation.questions:
        value = {"options": [o.id for o in question.options if o.correct]} if question.options else {"text": "8"}
        attempt.answers.append(Answer(question_id=question.id, value=value, saved_at=started))
    db.session.add(attempt)
    db.session.flush()
    submit(attempt, started + timedelta(minutes=12))
    db.session.flush()
