"""Demo: a line-1 (social programme) course with SIC on in the simulator, two modules mapped, and Ana with some
progress, dedication time and a grade (idempotent)."""

from datetime import timedelta

from sqlalchemy import select

from app.admin import service as admin_service
from app.auth.models import User
from app.courses.models import Course, Lesson, LessonProgress
from app.evaluations.grading import submit
from app.evaluations.models import Answer, Evaluation, EvaluationAttempt, Option, Question
from app.extensions import db
from app.sence.demo import _otec
from app.sence.settings import settings_of as sence_settings_of
from app.sic import service
from app.sic.models import SicAction
from app.timeutil import today_in_chile, utcnow

TITLE = "Emprendimiento digital (programa social)"
LESSONS = ("Tu idea de negocio", "Clientes y propuesta de valor", "Vender por redes sociales", "Costos y precios")
MODULES = ("ELE028837032039", "ELE028837032040")


def seed(_demo_course) -> None:
    if db.session.execute(select(Course.id).where(Course.title == TITLE)).first():
        return
    instructors = list(_demo_course.instructors)
    course = admin_service.create_course(
        {"title": TITLE, "hours": 40, "start_date": today_in_chile() - timedelta(days=10),
         "end_date": today_in_chile() + timedelta(days=50),
         "description": "Curso de línea 1 (programas sociales): su avance se informa cada noche a SIC."}, instructors)
    sence = sence_settings_of(course)
    sence.otec_id, sence.linea, sence.environment = _otec().id, 1, "simulator"
    # line 1 goes to SENCE with CodSence blank (error 204 otherwise): participants can register attendance
    sence.cod_sence, sence.codigo_curso, sence.alert_emails = "", "EMP-DIG-2026-0001", "alertas@demo.cl"
    for position, title in enumerate(LESSONS, 1):
        db.session.add(Lesson(course_id=course.id, position=position, title=title,
                              body=f"## {title}\n\nContenido de la lección {position}."))
    evaluation = _evaluation(course)
    db.session.commit()
    service.save_settings(course, {"enabled": True, "codigo_oferta": "CAP-26-01-13-0042-1",
                                   "codigo_grupo": "CAP-26-01-13-0042-1-S1", "environment": "simulator"})
    first, second = (service.add_module(course, codigo) for codigo in MODULES)
    lessons = list(course.lessons)
    service.save_mapping(course, {lessons[0].id: first.id, lessons[1].id: first.id, lessons[2].id: second.id,
                                  lessons[3].id: second.id}, {evaluation.id: first.id})
    ana = db.session.execute(select(User).where(User.email == "ana@demo.cl")).scalar_one_or_none()
    if ana is not None:
        admin_service.enroll(course, ana)
        _progress(course, ana, lessons, evaluation)


def _evaluation(course) -> Evaluation:
    evaluation = Evaluation(course_id=course.id, title="Evaluación módulo 1", published=True)
    question = Question(kind="single", text="¿Qué describe una propuesta de valor?", points=1, position=1)
    question.options = [Option(text="Por qué un cliente te elige", correct=True, position=1),
                        Option(text="El logo de la empresa", correct=False, position=2)]
    evaluation.questions.append(question)
    db.session.add(evaluation)
    db.session.flush()
    return evaluation


def _progress(course, ana, lessons, evaluation) -> None:
    """Two lessons done, the evaluation passed, and clicks two days ago (about 35 minutes of dedication)."""
    start = utcnow() - timedelta(days=2)
    for minutes, lesson in ((0, None), (2, lessons[0]), (15, lessons[0]), (17, lessons[1]), (37, lessons[1])):
        db.session.add(SicAction(course_id=course.id, user_id=ana.id, lesson_id=lesson.id if lesson else None,
                                 at=start + timedelta(minutes=minutes)))
    for lesson in lessons[:2]:
        db.session.add(LessonProgress(user_id=ana.id, course_id=course.id, lesson_id=lesson.id))
    question = evaluation.questions[0]
    attempt = EvaluationAttempt(evaluation_id=evaluation.id, user_id=ana.id, number=1, question_order=[question.id],
                                started_at=start + timedelta(minutes=38))
    attempt.evaluation = evaluation
    attempt.answers.append(Answer(question_id=question.id, value={"options": [question.options[0].id]}))
    db.session.add(attempt)
    db.session.flush()
    submit(attempt, start + timedelta(minutes=40))
    db.session.commit()
