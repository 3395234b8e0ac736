"""A participant's course status and its reasons, from the course's rule, grades, lessons and SENCE sessions."""

from datetime import timedelta
from decimal import Decimal

import pytest

from app.courses.models import Lesson, LessonProgress
from app.evaluations.grading import submit
from app.evaluations.models import CourseRule, EvaluationAttempt, StatusOverride
from app.evaluations.status import counted_results, course_statuses, participant_status
from app.extensions import db
from app.sence.models import CourseSence
from app.timeutil import today_in_chile, utcnow
from tests.evaluations.helpers import counted_session, make_evaluation, take
from tests.factories import enroll, make_course, make_group, make_user
from tests.queries import counting

FOUR = [("single", 1, [("a", True), ("b", False)])] * 4  # four 1-point questions: 25 % each


def ended_course(**fields):
    return make_course(start_date=today_in_chile() - timedelta(days=40), end_date=today_in_chile() - timedelta(days=2),
                       **fields)


def participant_in(course):
    user = make_user()
    enroll(course, user)
    return user


def test_a_running_course_is_cursando_with_the_grade_so_far():
    course = make_course()
    ana = participant_in(course)
    take(make_evaluation(course, FOUR), ana, correct=3)  # 75 % -> 5.1

    status = participant_status(course.id, ana.id)

    assert status.status == "cursando"
    assert status.final_grade == Decimal("5.1")
    assert status.reasons[0] == f"El curso termina el {course.end_date:%d-%m-%Y}."
    assert not status.overridden


def test_after_the_end_a_passing_grade_and_one_counted_session_approve():
    course = ended_course()
    ana = participant_in(course)
    take(make_evaluation(course, FOUR), ana, correct=4)
    counted_session(ana, course)

    status = participant_status(course.id, ana.id)

    assert status.status == "aprobado"
    assert status.final_grade == Decimal("7.0")
    assert status.counted_sessions == 1
    assert "Nota final 7,0 (mínimo 4,0): cumple." in status.reasons
    assert "Sesiones SENCE contadas: 1 (mínimo 1): cumple." in status.reasons


def test_without_a_counted_session_the_participant_fails_and_is_told_why():
    course = ended_course()
    ana = participant_in(course)
    take(make_evaluation(course, FOUR), ana, correct=4)

    status = participant_status(course.id, ana.id)

    assert status.status == "reprobado"
    assert "Sesiones SENCE contadas: 0 (mínimo 1): no cumple." in status.reasons


def test_a_low_final_grade_fails():
    course = ended_course()
    ana = participant_in(course)
    take(make_evaluation(course, FOUR), ana, correct=1)  # 25 % -> 2.3
    counted_session(ana, course)

    status = participant_status(course.id, ana.id)

    assert (status.status, status.final_grade) == ("reprobado", Decimal("2.3"))
    assert "Nota final 2,3 (mínimo 4,0): no cumple." in status.reasons


def test_the_final_grade_is_the_weighted_average_and_an_evaluation_not_taken_counts_1_once_closed():
    course = make_course()
    ana = participant_in(course)
    take(make_evaluation(course, FOUR, title="Control", weight=1), ana)  # 7.0
    take(make_evaluation(course, FOUR, title="Examen", weight=3), ana, correct=2)  # 50 % -> 3.5
    make_evaluation(course, FOUR, title="Abierta", weight=5)  # still open, not taken: left out
    make_evaluation(course, FOUR, title="Cerrada", weight=2, closes_at=utcnow() - timedelta(hours=1))

    status = participant_status(course.id, ana.id)

    # (7.0·1 + 3.5·3 + 1.0·2) / 6 = 3.25 -> 3.3
    assert status.final_grade == Decimal("3.3")
    assert "«Cerrada» no fue rendida: cuenta con nota 1,0." in status.reasons


def test_unpublished_evaluations_and_weight_zero_do_not_count():
    course = make_course()
    ana = participant_in(course)
    take(make_evaluation(course, FOUR, published=False), ana, correct=0)
    take(make_evaluation(course, FOUR, weight=0), ana, correct=0)

    assert participant_status(course.id, ana.id).final_grade is None


@pytest.mark.parametrize(("counting", "grade"), [("best", "7.0"), ("last", "2.3")])
def test_the_counted_attempt_is_the_best_or_the_last(counting, grade):
    course = make_course()
    ana = participant_in(course)
    evaluation = make_evaluation(course, FOUR, max_attempts=3, counting=counting)
    take(evaluation, ana, correct=2, number=1)
    take(evaluation, ana, correct=4, number=2)
    take(evaluation, ana, correct=1, number=3)

    result = counted_results(course.id)[(ana.id, evaluation.id)]

    assert result.grade == Decimal(grade)
    assert not result.pending_review


def test_an_attempt_pending_review_has_no_grade_and_keeps_the_participant_cursando_after_the_end():
    course = ended_course()
    ana = participant_in(course)
    counted_session(ana, course)
    evaluation = make_evaluation(course, [("open", 2, "")], manual_review=True, title="Ensayo")
    take(evaluation, ana)

    result = counted_results(course.id)[(ana.id, evaluation.id)]
    status = participant_status(course.id, ana.id)

    assert (result.grade, result.pending_review) == (None, True)
    assert status.status == "cursando"
    assert status.final_grade is None
    assert "«Ensayo» está pendiente de revisión." in status.reasons


def test_an_attempt_left_open_past_its_time_limit_is_submitted_by_the_server_with_what_was_saved():
    course = make_course()
    ana = participant_in(course)
    evaluation = make_evaluation(course, FOUR, time_limit_minutes=10)
    started = utcnow() - timedelta(minutes=30)
    attempt = take(evaluation, ana, correct=2, submitted=False, started_at=started,
                   deadline_at=started + timedelta(minutes=10))

    result = counted_results(course.id)[(ana.id, evaluation.id)]

    db.session.refresh(attempt)
    assert attempt.submitted_at == started + timedelta(minutes=10)
    assert attempt.submitted_late
    assert result.grade == Decimal("3.5")


def test_an_override_wins_and_says_who_and_why_and_lifting_it_restores_the_rule():
    course = ended_course()
    ana = participant_in(course)
    coordinator = make_user("admin", full_name="Carla Coordinadora")
    take(make_evaluation(course, FOUR), ana)
    db.session.add(StatusOverride(course_id=course.id, user_id=ana.id, status="aprobado",
                                  reason="Conectó desde la OTEC; SENCE sin registro.", created_by_id=coordinator.id))
    db.session.commit()

    status = participant_status(course.id, ana.id)
    assert (status.status, status.overridden) == ("aprobado", True)
    assert status.reasons[0].startswith("Estado fijado por Carla Coordinadora el ")
    assert status.reasons[0].endswith("aprobado. Motivo: Conectó desde la OTEC; SENCE sin registro.")

    db.session.add(StatusOverride(course_id=course.id, user_id=ana.id, status=None, reason="Error mío",
                                  created_by_id=coordinator.id, created_at=utcnow() + timedelta(seconds=1)))
    db.session.commit()
    status = participant_status(course.id, ana.id)
    assert (status.status, status.overridden) == ("reprobado", False)


def test_the_rule_can_ask_for_lessons_and_connectivity():
    course = ended_course(hours=2)
    db.session.add(CourseRule(course_id=course.id, exigencia_pct=60, min_final_grade=Decimal("4.0"),
                              min_lessons_pct=50, sence_requirement="connectivity", min_connectivity_pct=60))
    lessons = [Lesson(course_id=course.id, title=f"L{n}", position=n) for n in range(1, 5)]
    db.session.add_all(lessons)
    db.session.commit()
    ana, beto = participant_in(course), participant_in(course)
    for lesson in lessons[:2]:
        db.session.add(LessonProgress(user_id=ana.id, course_id=course.id, lesson_id=lesson.id))
    db.session.add(LessonProgress(user_id=beto.id, course_id=course.id, lesson_id=lessons[0].id))
    db.session.commit()
    counted_session(ana, course)  # 1 h of 2 h: 50 % connectivity

    statuses = course_statuses(course.id)

    assert statuses[ana.id].lessons_completed_pct == Decimal("50.0")
    assert "Lecciones completadas 50 % (mínimo 50 %): cumple." in statuses[ana.id].reasons
    assert "Conectividad SENCE 50 % (mínimo 60 %): no cumple." in statuses[ana.id].reasons
    assert statuses[ana.id].status == "reprobado"
    assert statuses[beto.id].lessons_completed_pct == Decimal("25.0")
    assert statuses[beto.id].final_grade is None


def test_a_course_without_evaluations_approves_on_attendance_alone_and_exempt_groups_skip_sence():
    course = ended_course()
    auditors = make_group(course, "Oyentes")
    course.sence.exempt_group_ids = [auditors.id]
    db.session.commit()
    ana, oyente = participant_in(course), make_user()
    enroll(course, oyente, group=auditors)
    counted_session(ana, course)

    statuses = course_statuses(course.id)

    assert statuses[ana.id].status == "aprobado"
    assert statuses[ana.id].final_grade is None
    assert statuses[oyente.id].status == "aprobado"
    assert "Exento del requisito SENCE (grupo exento)." in statuses[oyente.id].reasons


def _statements_for_statuses(course_id) -> int:
    db.session.expire_all()
    with counting() as statements:
        course_statuses(course_id)
    return len(statements)


def test_every_enrolled_participant_gets_a_status_in_a_fixed_number_of_queries():
    small, large = make_course(), make_course()
    for course, size in ((small, 2), (large, 10)):
        evaluation = make_evaluation(course, FOUR)
        for _ in range(size):
            person = participant_in(course)
            take(evaluation, person, correct=2)
            counted_session(person, course)

    assert len(course_statuses(large.id)) == 10
    assert _statements_for_statuses(small.id) == _statements_for_statuses(large.id) <= 14


def test_a_user_not_enrolled_has_no_status():
    course = make_course()
    with pytest.raises(LookupError):
        participant_status(course.id, make_user().id)


def test_submit_scores_blank_questions_zero():
    course = make_course()
    ana = participant_in(course)
    evaluation = make_evaluation(course, FOUR)
    attempt = EvaluationAttempt(evaluation_id=evaluation.id, user_id=ana.id,
                                question_order=[q.id for q in evaluation.questions])
    attempt.evaluation = evaluation
    db.session.add(attempt)
    submit(attempt, utcnow())
    db.session.commit()
    assert (attempt.score_pct, attempt.grade) == (Decimal("0.00"), Decimal("1.0"))
    assert CourseSence  # the SENCE settings exist for every factory course


def test_the_grade_comes_from_the_exact_points_not_the_rounded_percentage():
    course = make_course()
    ana = participant_in(course)
    attempt = take(make_evaluation(course, [("single", 1, [("a", True), ("b", False)])] * 6), ana, correct=5)
    # 5/6 = 83.333… % -> 5.75 -> 5.8; from the stored 83.33 % it would be 5.7
    assert (attempt.score_pct, attempt.grade) == (Decimal("83.33"), Decimal("5.8"))
