"""A finished course for close-out tests: its status comes from the real status service (app/evaluations).

With the default course rule, a participant of a course that has ended is "aprobado" with one counted SENCE
session and "reprobado" without; before the end everyone is "cursando".
"""

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.sence.models import Otec
from app.timeutil import today_in_chile
from tests.evaluations.helpers import counted_session, make_evaluation, take
from tests.factories import enroll, make_course, make_user
from tests.sence.builders import make_otec


def finished_course(ended_days_ago: int = 1, *, alert_emails: str = "otec@capacita.cl", **fields):
    otec = db.session.execute(select(Otec)).scalars().first() or make_otec(name="Capacitaciones del Sur SpA")
    end = today_in_chile() - timedelta(days=ended_days_ago)
    defaults = {"title": "Excel intermedio", "hours": 24, "start_date": end - timedelta(days=30), "end_date": end,
                "sence": {"otec_id": otec.id, "alert_emails": alert_emails}}
    defaults.update(fields)
    return make_course(**defaults)


def participant(course, name: str, *, sessions: int = 1, correct: int | None = None, evaluation=None, **fields):
    user = make_user(full_name=name, **fields)
    enroll(course, user)
    for _ in range(sessions):
        counted_session(user, course)
    if evaluation is not None:
        take(evaluation, user, correct)
    return user


def graded(course, questions: int = 10):
    return make_evaluation(course, [("single", 1, [("Sí", True), ("No", False)])] * questions, title="Prueba final")
