"""Staff pages: building an evaluation, the gradebook and its exports, manual grading, the rule and overrides."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

from openpyxl import load_workbook

from app.evaluations.models import CourseRule, Evaluation, EvaluationAttempt, StatusOverride
from app.extensions import db
from app.timeutil import today_in_chile
from tests.evaluations.helpers import counted_session, make_evaluation, take
from tests.factories import enroll, login, make_course, make_group, make_user

FOUR = [("single", 1, [("a", True), ("b", False)])] * 4


def staffed_course(client, **fields):
    teacher = make_user("instructor", full_name="Irene Instructora")
    course = make_course(instructors=[teacher], **fields)
    login(client, teacher)
    return course, teacher


def participant(course, name="Ana Pérez", group=None):
    user = make_user(full_name=name)
    enroll(course, user, group)
    return user


def test_an_instructor_builds_an_evaluation_with_each_kind_of_question_and_publishes_it(client):
    course, _ = staffed_course(client)
    created = client.post(f"/cursos/{course.id}/evaluaciones/nueva", data={
        "title": "Control 1", "weight": "2", "layout": "one", "max_attempts": "2", "counting": "best",
        "feedback": "score", "after_lesson_id": "0", "time_limit_minutes": "15", "opens_at": "2026-03-02T09:00"})
    assert created.status_code == 303, created.get_data(as_text=True)
    evaluation = db.session.query(Evaluation).one()
    assert (evaluation.weight, evaluation.time_limit_minutes, evaluation.published) == (Decimal("2.0"), 15, False)
    assert evaluation.opens_at.isoformat() == "2026-03-02T12:00:00+00:00"  # 09:00 in Santiago (summer, UTC-3)
    questions = f"/cursos/{course.id}/evaluaciones/{evaluation.id}/preguntas"
    for data in ({"q-kind": "single", "q-text": "¿Capital?", "q-points": "2", "option_text_1": "Lima",
                  "option_text_2": "Santiago", "option_correct_2": "1"},
                 {"q-kind": "multiple", "q-text": "Pares", "q-points": "1", "option_text_1": "2",
                  "option_correct_1": "1", "option_text_2": "3", "option_text_3": "4", "option_correct_3": "1"},
                 {"q-kind": "truefalse", "q-text": "7 es primo", "q-points": "1", "q-true_is_correct": "1"},
                 {"q-kind": "short", "q-text": "Puerto principal", "q-points": "1", "q-expected": "Valparaíso"},
                 {"q-kind": "numeric", "q-text": "25/2", "q-points": "1", "q-expected": "12,5", "q-tolerance": "0"}):
        response = client.post(questions, data=data)
        assert response.status_code == 303, response.get_data(as_text=True)

    published = client.post(f"/cursos/{course.id}/evaluaciones/{evaluation.id}/editar", data={
        "title": "Control 1", "weight": "2", "layout": "one", "max_attempts": "2", "counting": "best",
        "feedback": "score", "after_lesson_id": "0", "published": "y"})

    assert published.status_code == 303
    db.session.refresh(evaluation)
    assert evaluation.published
    assert [q.kind for q in evaluation.questions] == ["single", "multiple", "truefalse", "short", "numeric"]
    assert [o.correct for o in evaluation.questions[1].options] == [True, False, True]
    assert [(o.text, o.correct) for o in evaluation.questions[2].options] == [("Verdadero", True), ("Falso", False)]
    editor = client.get(f"/cursos/{course.id}/lecciones/gestionar").get_data(as_text=True)
    assert "Nueva evaluación" in editor and "Control 1" in editor and "5 preguntas" in editor


def test_bad_questions_are_refused_with_a_clear_message_and_change_nothing(client):
    course, _ = staffed_course(client)
    evaluation = make_evaluation(course, FOUR)
    questions = f"/cursos/{course.id}/evaluaciones/{evaluation.id}/preguntas"
    cases = [({"q-kind": "single", "q-text": "x", "q-points": "1", "option_text_1": "a", "option_text_2": "b"},
              "Marca la opción correcta."),
             ({"q-kind": "single", "q-text": "x", "q-points": "1", "option_text_1": "a", "option_correct_1": "1"},
              "Escribe al menos dos opciones."),
             ({"q-kind": "numeric", "q-text": "x", "q-points": "1", "q-expected": "doce"}, "valor numérico esperado"),
             ({"q-kind": "open", "q-text": "x", "q-points": "1"}, "revisión manual"),
             ({"q-kind": "single", "q-text": "", "q-points": "1"}, "Este campo es obligatorio.")]
    for data, message in cases:
        response = client.post(questions, data=data)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.get(Evaluation, evaluation.id).questions) == 4


def test_questions_are_frozen_once_someone_has_taken_the_evaluation(client):
    course, _ = staffed_course(client)
    evaluation = make_evaluation(course, FOUR)
    take(evaluation, participant(course))
    question = evaluation.questions[0]
    response = client.post(f"/cursos/{course.id}/evaluaciones/{evaluation.id}/preguntas/{question.id}/eliminar",
                           follow_redirects=True)
    assert "las preguntas no se pueden cambiar" in response.get_data(as_text=True)
    deleted = client.post(f"/cursos/{course.id}/evaluaciones/{evaluation.id}/eliminar", follow_redirects=True)
    assert "no se puede eliminar" in deleted.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.get(Evaluation, evaluation.id).questions) == 4


def test_the_gradebook_shows_grades_and_filters(client):
    course, _ = staffed_course(client)
    auditors = make_group(course, "Tarde")
    evaluation = make_evaluation(course, FOUR, title="Control 1")
    ana, beto = participant(course), participant(course, "Beto Rojas", auditors)
    take(evaluation, ana, correct=3)
    take(evaluation, beto, correct=1)

    page = client.get(f"/cursos/{course.id}/calificaciones").get_data(as_text=True)
    assert "Ana Pérez" in page and "Beto Rojas" in page
    assert "<strong>5,1</strong>" in page and "<strong>2,3</strong>" in page

    filtered = client.get(f"/cursos/{course.id}/calificaciones?grupo=Tarde", headers={"HX-Request": "true"})
    text = filtered.get_data(as_text=True)
    assert "<html" not in text and "Beto Rojas" in text and "Ana Pérez" not in text
    assert "Participantes (1 de 2)" in text
    assert "Ana Pérez" in client.get(f"/cursos/{course.id}/calificaciones?q=pérez").get_data(as_text=True)
    assert "Nadie cumple el filtro." in client.get(f"/cursos/{course.id}/calificaciones?estado=aprobado"
                                                   ).get_data(as_text=True)


def test_the_exports_carry_real_numbers(client):
    course, _ = staffed_course(client, end_date=today_in_chile() - timedelta(days=1),
                               start_date=today_in_chile() - timedelta(days=30))
    evaluation = make_evaluation(course, FOUR, title="=Control")
    ana = participant(course)
    take(evaluation, ana, correct=3)
    counted_session(ana, course)

    xlsx = client.get(f"/cursos/{course.id}/calificaciones.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(r for r in rows if r and r[0] == "Participante")
    data = rows[rows.index(header) + 1]
    record = dict(zip(header, data, strict=False))
    assert record["=Control: nota"] == 5.1
    assert record["=Control: %"] == 75.0
    assert record["Nota final"] == 5.1
    assert record["Sesiones SENCE contadas"] == 1
    assert record["Estado"] == "Aprobado"
    grade_cell = sheet.cell(row=rows.index(header) + 2, column=header.index("Nota final") + 1)
    assert grade_cell.number_format == "0.0" and grade_cell.data_type == "n"

    text = client.get(f"/cursos/{course.id}/calificaciones.csv").data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = next(r for r in lines if r and r[0] == "Participante")
    record = dict(zip(header, lines[lines.index(header) + 1], strict=False))
    assert "'=Control: nota" in header  # a formula-looking title is neutralized
    assert (record["'=Control: nota"], record["Nota final"], record["Estado"]) == ("5,1", "5,1", "Aprobado")


def test_manual_grading_turns_a_pending_attempt_into_a_grade_the_participant_sees(client):
    course, _ = staffed_course(client)
    evaluation = make_evaluation(course, [("single", 2, [("a", True), ("b", False)]), ("open", 2, "")],
                                 manual_review=True, title="Ensayo")
    ana = participant(course)
    attempt = take(evaluation, ana, answers={evaluation.questions[1].id: {"text": "Mi respuesta larga"}})
    assert attempt.pending_review and attempt.grade is None
    gradebook = client.get(f"/cursos/{course.id}/calificaciones").get_data(as_text=True)
    assert "Por revisar" in gradebook

    open_q = evaluation.questions[1]
    review_url = f"/cursos/{course.id}/calificaciones/intentos/{attempt.id}"
    assert "Mi respuesta larga" in client.get(review_url).get_data(as_text=True)
    refused = client.post(review_url, data={f"points_{open_q.id}": "5"})
    assert refused.status_code == 422 and "Asigna entre 0 y 2 puntos" in refused.get_data(as_text=True)
    db.session.refresh(attempt)
    assert attempt.pending_review

    assert client.post(review_url, data={f"points_{open_q.id}": "1,5"}).status_code == 303
    db.session.refresh(attempt)
    # 2 + 1.5 of 4 = 87.5 % -> 4 + 3 * 0.275 / 0.4 = 6.0625 -> 6.1
    assert (attempt.pending_review, attempt.score_pct, attempt.grade) == (False, Decimal("87.50"), Decimal("6.1"))

    client.post("/salir")
    login(client, ana)
    mine = client.get(f"/cursos/{course.id}/mis-calificaciones").get_data(as_text=True)
    assert "<strong>6,1</strong>" in mine


def test_a_participant_sees_pending_until_graded(client):
    course = make_course()
    evaluation = make_evaluation(course, [("open", 2, "")], manual_review=True)
    ana = participant(course)
    take(evaluation, ana)
    login(client, ana)
    mine = client.get(f"/cursos/{course.id}/mis-calificaciones").get_data(as_text=True)
    assert "Pendiente de revisión" in mine
    assert "está pendiente de revisión" in mine


def test_the_rule_form_saves_and_a_new_exigencia_regrades(client):
    course, _ = staffed_course(client)
    attempt = take(make_evaluation(course, FOUR), participant(course), correct=2)  # 50 %
    assert attempt.grade == Decimal("3.5")
    saved = client.post(f"/cursos/{course.id}/calificaciones/regla", data={
        "rule-exigencia_pct": "50", "rule-min_final_grade": "4,0", "rule-min_lessons_pct": "80",
        "rule-sence_requirement": "connectivity", "rule-min_connectivity_pct": "75"})
    assert saved.status_code == 303, saved.get_data(as_text=True)
    rule = db.session.get(CourseRule, course.id)
    assert (rule.exigencia_pct, rule.min_lessons_pct, rule.sence_requirement) == (50, 80, "connectivity")
    db.session.refresh(attempt)
    assert attempt.grade == Decimal("4.0")

    bad = client.post(f"/cursos/{course.id}/calificaciones/regla", data={
        "rule-exigencia_pct": "100", "rule-min_final_grade": "8", "rule-min_lessons_pct": "0",
        "rule-sence_requirement": "none", "rule-min_connectivity_pct": "0"})
    assert bad.status_code == 422
    assert "La exigencia va de 1 % a 99 %." in bad.get_data(as_text=True)
    db.session.refresh(rule)
    assert rule.exigencia_pct == 50


def test_an_override_needs_a_reason_and_is_logged(client):
    course, teacher = staffed_course(client, end_date=today_in_chile() - timedelta(days=1),
                                     start_date=today_in_chile() - timedelta(days=30))
    ana = participant(course)
    url = f"/cursos/{course.id}/calificaciones/participantes/{ana.id}"
    assert "Reprobado" in client.get(url).get_data(as_text=True)

    refused = client.post(url, data={"status": "aprobado", "reason": "  "})
    assert refused.status_code == 422
    assert db.session.query(StatusOverride).count() == 0

    client.post(url, data={"status": "aprobado", "reason": "Conectó desde la sede; SENCE caído ese día."})
    page = client.get(url).get_data(as_text=True)
    assert "Estado fijado por Irene Instructora" in page
    assert "Conectó desde la sede; SENCE caído ese día." in page
    row = db.session.query(StatusOverride).one()
    assert (row.status, row.created_by_id) == ("aprobado", teacher.id)
    gradebook = client.get(f"/cursos/{course.id}/calificaciones").get_data(as_text=True)
    assert "Aprobado" in gradebook and "fijado" in gradebook


def test_staff_of_another_course_cannot_see_this_gradebook(client):
    course = make_course()
    take(make_evaluation(course, FOUR), participant(course))
    login(client, make_user("instructor"))
    assert client.get(f"/cursos/{course.id}/calificaciones").status_code == 403
    assert client.get(f"/cursos/{course.id}/calificaciones.xlsx").status_code == 403
    assert db.session.query(EvaluationAttempt).count() == 1


def test_a_question_can_be_edited_before_anyone_takes_the_evaluation(client):
    course, _ = staffed_course(client)
    evaluation = make_evaluation(course, [("single", 1, [("Lima", False), ("Santiago", True)])])
    question = evaluation.questions[0]
    url = f"/cursos/{course.id}/evaluaciones/{evaluation.id}/preguntas/{question.id}"
    form = client.get(url).get_data(as_text=True)
    assert 'value="Lima"' in form and 'name="option_correct_2" value="1" checked' in form
    changed = client.post(url, data={"q-kind": "single", "q-text": "¿Capital de Perú?", "q-points": "3",
                                     "option_text_1": "Lima", "option_correct_1": "1", "option_text_2": "Santiago"})
    assert changed.status_code == 303
    db.session.expire_all()
    question = db.session.get(Evaluation, evaluation.id).questions[0]
    assert (question.text, question.points) == ("¿Capital de Perú?", Decimal("3.00"))
    assert [(o.text, o.correct) for o in question.options] == [("Lima", True), ("Santiago", False)]


def test_an_admin_reaches_the_gradebook_from_the_course_tabs_and_filters_pending_reviews(client):
    course = make_course()
    admin = make_user("admin")
    ana, beto = participant(course), participant(course, "Beto Rojas")
    take(make_evaluation(course, [("open", 1, "")], manual_review=True, title="Ensayo"), ana)
    take(make_evaluation(course, FOUR), beto)
    login(client, admin)
    tabs = client.get(f"/cursos/{course.id}/lecciones/gestionar").get_data(as_text=True)
    assert f'href="/cursos/{course.id}/calificaciones">Calificaciones</a>' in tabs
    pending = client.get(f"/cursos/{course.id}/calificaciones?pendientes=1").get_data(as_text=True)
    table, review_list = pending.split("Por revisar (1)")
    assert "Ana Pérez" in table and "Beto Rojas" not in table
    assert "Ana Pérez · Ensayo (intento 1)" in review_list


def test_the_export_links_keep_the_filters_and_odd_query_strings_do_no_harm(client):
    course, _ = staffed_course(client)
    page = client.get(f"/cursos/{course.id}/calificaciones?estado=aprobado&course_id=9&fmt=x")
    assert page.status_code == 200
    assert f"/cursos/{course.id}/calificaciones.xlsx?estado=aprobado" in page.get_data(as_text=True)


def test_questions_can_be_copied_from_another_evaluation_of_the_course_only(client):
    course, _ = staffed_course(client)
    bank = make_evaluation(course, [("single", 2, [("Lima", False), ("Santiago", True)]), ("numeric", 1, "12,5")],
                           title="Banco")
    target = make_evaluation(course, title="Examen", published=False)  # one question of its own
    foreign = make_evaluation(make_course(), FOUR, title="Ajena")
    url = f"/cursos/{course.id}/evaluaciones/{target.id}/copiar-preguntas"

    refused = client.post(url, data={"source": str(foreign.id)}, follow_redirects=True)
    assert "Elige otra evaluación de este mismo curso." in refused.get_data(as_text=True)
    copied = client.post(url, data={"source": str(bank.id)}, follow_redirects=True)
    assert "2 preguntas copiadas de «Banco»." in copied.get_data(as_text=True)

    db.session.expire_all()
    own, *questions = db.session.get(Evaluation, target.id).questions
    assert own.text == "Pregunta 1"
    assert [(q.kind, q.points, q.expected) for q in questions] == [("single", Decimal("2.00"), ""),
                                                                   ("numeric", Decimal("1.00"), "12,5")]
    assert [(o.text, o.correct) for o in questions[0].options] == [("Lima", False), ("Santiago", True)]
    assert len(db.session.get(Evaluation, bank.id).questions) == 2  # the source is untouched
