"""`seed-demo` gives the demo course an evaluation and Ana an attempt, so the gradebook has content."""

from decimal import Decimal

from app.demo import seed_demo
from app.evaluations.gradebook import gradebook
from app.evaluations.models import Evaluation, EvaluationAttempt
from app.extensions import db


def test_the_demo_course_has_an_evaluation_after_its_second_lesson_and_anas_graded_attempt():
    course = seed_demo()
    seed_demo()  # idempotent

    evaluation = db.session.query(Evaluation).filter_by(course_id=course.id).one()  # the SIC demo course has its own
    attempt = db.session.query(EvaluationAttempt).filter_by(evaluation_id=evaluation.id).one()
    assert evaluation.published and len(evaluation.questions) == 4
    assert evaluation.after_lesson_id == course.lessons[1].id
    # 5 of 6 points: 83.33 % -> 4 + 3 * 0.2333 / 0.4 = 5.75 -> 5.8
    assert (attempt.user.email, attempt.score_pct, attempt.grade) == ("ana@demo.cl", Decimal("83.33"), Decimal("5.8"))
    rows = {row.user.email: row for row in gradebook(course).rows}
    assert rows["ana@demo.cl"].status.final_grade == Decimal("5.8")
    assert rows["benito@demo.cl"].status.final_grade is None
