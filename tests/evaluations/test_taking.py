"""Taking an evaluation through the real routes: the SENCE gate, saving as one goes, submitting once, and every
refusal (closed, past the time limit, out of attempts, somebody else's attempt) enforced by the server."""

from datetime import timedelta
from decimal import Decimal

from app.evaluations.models import Answer, Evaluation, EvaluationAttempt
from app.extensions import db
from app.timeutil import utcnow
from tests.evaluations.helpers import make_evaluation, right_answer, take, wrong_answer
from tests.factories import enroll, login, make_course, make_user, open_session
from tests.queries import counting, orm_loads

HTMX = {"HX-Request": "true"}
QUIZ = [("single", 2, [("Lima", False), ("Santiago", True)]), ("truefalse", 1, [("Verdadero", True), ("Falso", False)]),
        ("short", 1, "Valparaíso|Valpo"), ("numeric", 1, "12,5")]


def setup(client, *, session: bool = True, **fields):
    course = make_course()
    evaluation = make_evaluation(course, QUIZ, **fields)
    ana = make_user(full_name="Ana Pérez")
    enroll(course, ana)
    if session:
        open_session(ana, course)
    login(client, ana)
    return course, evaluation, ana


def base(course, evaluation):
    return f"/cursos/{course.id}/evaluaciones/{evaluation.id}"


def start(client, course, evaluation):
    response = client.post(f"{base(course, evaluation)}/comenzar")
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def answers_form(evaluation, values: dict) -> dict:
    form = {"shown": [str(q.id) for q in evaluation.questions if q.id in values]}
    form.update({f"q{qid}": value for qid, value in values.items()})
    return form


def stored_answers(attempt_id: int) -> dict:
    db.session.expire_all()
    return {a.question_id: a.value for a in db.session.query(Answer).filter_by(attempt_id=attempt_id)}


def test_a_participant_answers_reloads_without_losing_anything_submits_and_sees_the_grade(client):
    course, evaluation, ana = setup(client)
    q1, q2, q3, q4 = evaluation.questions
    url = start(client, course, evaluation)
    attempt = db.session.query(EvaluationAttempt).one()

    saved = client.post(f"{url}/respuestas", data=answers_form(evaluation, {q1.id: str(right_answer(q1)["options"][0]),
                                                                            q3.id: "  valpo "}), headers=HTMX)
    assert saved.status_code == 200
    assert "Respuestas guardadas a las" in saved.get_data(as_text=True)

    page = client.get(url + "?p=1").get_data(as_text=True)  # the reload
    assert f'value="{right_answer(q1)["options"][0]}" checked' in page
    assert "valpo" in client.get(url + "?p=3").get_data(as_text=True)

    client.post(f"{url}/respuestas", data=answers_form(evaluation, {q4.id: "12.5"}), headers=HTMX)
    response = client.post(f"{url}/enviar", data=answers_form(evaluation, {q2.id: str(wrong_answer(q2)["options"][0])}))
    assert response.status_code == 303
    result = client.get(url).get_data(as_text=True)

    db.session.refresh(attempt)
    # 2 + 0 + 1 + 1 = 4 of 5 points: 80 % -> 5.5
    assert (attempt.score_pct, attempt.grade) == (Decimal("80.00"), Decimal("5.5"))
    assert 'id="attempt-grade">5,5<' in result
    assert "4 de 5 puntos (80,0 %)" in result


def test_one_page_layout_shows_every_question_and_saves_them_together(client):
    course, evaluation, _ = setup(client, layout="all")
    url = start(client, course, evaluation)
    page = client.get(url).get_data(as_text=True)
    assert all(f'id="pregunta-{q.id}"' in page for q in evaluation.questions)
    q1, q2, *_ = evaluation.questions
    client.post(f"{url}/respuestas", data=answers_form(evaluation, {q1.id: "999999", q2.id: ""}), headers=HTMX)
    attempt = db.session.query(EvaluationAttempt).one()
    # an option id from nowhere is dropped, not stored
    assert stored_answers(attempt.id) == {q1.id: {"options": []}, q2.id: {"options": []}}


def test_without_an_open_sence_session_nothing_can_be_started_or_saved(client):
    course, evaluation, ana = setup(client, session=False)
    page = client.get(base(course, evaluation))
    assert page.status_code == 403
    assert "Debes iniciar sesión SENCE para ver el contenido" in page.get_data(as_text=True)
    assert client.post(f"{base(course, evaluation)}/comenzar").status_code == 403
    attempt = take(evaluation, ana, submitted=False)
    saved = client.post(f"{base(course, evaluation)}/intentos/{attempt.id}/respuestas",
                        data=answers_form(evaluation, {evaluation.questions[0].id: "1"}))
    assert saved.status_code == 403
    assert client.post(f"{base(course, evaluation)}/intentos/{attempt.id}/enviar").status_code == 403
    db.session.refresh(attempt)
    assert not attempt.submitted
    assert db.session.query(EvaluationAttempt).count() == 1


def test_answers_are_refused_after_the_evaluation_closes(client):
    course, evaluation, ana = setup(client, closes_at=utcnow() + timedelta(hours=1))
    url = start(client, course, evaluation)
    q1 = evaluation.questions[0]
    client.post(f"{url}/respuestas", data=answers_form(evaluation, {q1.id: str(q1.options[0].id)}), headers=HTMX)
    attempt = db.session.query(EvaluationAttempt).one()
    evaluation.closes_at = utcnow() - timedelta(minutes=5)
    db.session.commit()

    late = client.post(f"{url}/respuestas", data=answers_form(evaluation, {q1.id: str(q1.options[1].id)}),
                       headers=HTMX)

    assert late.headers["HX-Redirect"].endswith(url)
    assert stored_answers(attempt.id)[q1.id] == {"options": [q1.options[0].id]}
    db.session.refresh(attempt)
    assert attempt.submitted and attempt.submitted_late
    assert "Se abre" not in client.get(base(course, evaluation)).get_data(as_text=True)
    assert client.post(f"{base(course, evaluation)}/comenzar").headers["Location"].endswith(base(course, evaluation))
    assert db.session.query(EvaluationAttempt).count() == 1


def test_the_time_limit_is_enforced_by_the_server(client):
    course, evaluation, ana = setup(client, time_limit_minutes=20)
    url = start(client, course, evaluation)
    attempt = db.session.query(EvaluationAttempt).one()
    assert attempt.deadline_at - attempt.started_at == timedelta(minutes=20)
    q1 = evaluation.questions[0]
    client.post(f"{url}/respuestas", data=answers_form(evaluation, {q1.id: str(right_answer(q1)["options"][0])}))
    attempt.deadline_at = utcnow() - timedelta(minutes=1)  # twenty minutes later
    db.session.commit()

    response = client.post(f"{url}/enviar", data=answers_form(evaluation, {evaluation.questions[1].id: "x"}))
    page = client.get(response.headers["Location"]).get_data(as_text=True)

    db.session.refresh(attempt)
    assert attempt.submitted_late
    assert attempt.submitted_at == attempt.deadline_at
    assert set(stored_answers(attempt.id)) == {q1.id}  # what came after the deadline was not stored
    assert attempt.score_pct == Decimal("40.00")  # the 2 points saved in time, of 5
    assert "Se acabó el tiempo" in page


def test_a_submitted_attempt_cannot_be_changed_or_sent_again(client):
    course, evaluation, _ = setup(client)
    url = start(client, course, evaluation)
    client.post(f"{url}/enviar")
    attempt = db.session.query(EvaluationAttempt).one()
    submitted_at = attempt.submitted_at

    again = client.post(f"{url}/enviar", data=answers_form(evaluation, {evaluation.questions[0].id: "1"}))
    saved = client.post(f"{url}/respuestas", data=answers_form(evaluation, {evaluation.questions[0].id: "1"}),
                        headers=HTMX)

    assert again.status_code == 303
    assert "ya fue enviada" in saved.get_data(as_text=True)
    db.session.refresh(attempt)
    assert attempt.submitted_at == submitted_at
    assert stored_answers(attempt.id) == {}


def test_no_attempt_beyond_the_number_allowed(client):
    course, evaluation, _ = setup(client, max_attempts=2)
    for _ in range(2):
        client.post(f"{start(client, course, evaluation)}/enviar")
    refused = client.post(f"{base(course, evaluation)}/comenzar", follow_redirects=True)
    assert "Ya usaste todos tus intentos." in refused.get_data(as_text=True)
    assert db.session.query(EvaluationAttempt).count() == 2


def test_starting_twice_resumes_the_attempt_in_progress(client):
    course, evaluation, _ = setup(client)
    assert start(client, course, evaluation) == start(client, course, evaluation)
    assert db.session.query(EvaluationAttempt).count() == 1


def test_a_participant_cannot_see_or_answer_somebody_elses_attempt(client):
    course, evaluation, ana = setup(client)
    beto = make_user()
    enroll(course, beto)
    theirs = take(evaluation, beto, submitted=False)
    before = stored_answers(theirs.id)
    url = f"{base(course, evaluation)}/intentos/{theirs.id}"
    assert client.get(url).status_code == 404
    assert client.post(f"{url}/respuestas", data=answers_form(evaluation, {evaluation.questions[0].id: "1"})
                       ).status_code == 404
    assert client.post(f"{url}/enviar").status_code == 404
    assert stored_answers(theirs.id) == before
    db.session.refresh(theirs)
    assert not theirs.submitted


def test_an_unpublished_or_not_yet_open_evaluation_cannot_be_taken(client):
    course, evaluation, _ = setup(client, opens_at=utcnow() + timedelta(days=1))
    page = client.get(base(course, evaluation)).get_data(as_text=True)
    assert "Se abre el" in page
    client.post(f"{base(course, evaluation)}/comenzar")
    evaluation.published = False
    db.session.commit()
    assert client.get(base(course, evaluation)).status_code == 404
    assert db.session.query(EvaluationAttempt).count() == 0


def test_correct_answers_are_shown_only_after_closing_when_chosen(client):
    course, evaluation, _ = setup(client, feedback="answers", closes_at=utcnow() + timedelta(hours=1))
    url = start(client, course, evaluation)
    client.post(f"{url}/enviar")
    assert "Respuesta esperada" not in client.get(url).get_data(as_text=True)
    evaluation.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Respuesta esperada: <strong>Valparaíso</strong>" in page
    assert "Correcta" in page


def test_the_player_lists_the_evaluation_after_its_lesson_and_links_my_grades(client):
    from app.courses import service as courses

    course, evaluation, _ = setup(client)
    first = courses.add_lesson(course, "Primera", "uno")
    courses.add_lesson(course, "Segunda", "dos")
    evaluation.after_lesson_id = first.id
    db.session.commit()
    page = client.get(f"/cursos/{course.id}").get_data(as_text=True)
    assert page.index("Primera") < page.index(evaluation.title) < page.index("Segunda")
    assert f"/cursos/{course.id}/mis-calificaciones" in page


def test_a_shuffled_evaluation_keeps_the_same_order_for_the_attempt_across_reloads(client):
    course, evaluation, _ = setup(client, layout="all", shuffle_questions=True, shuffle_options=True)
    url = start(client, course, evaluation)
    attempt = db.session.query(EvaluationAttempt).one()
    assert sorted(attempt.question_order) == sorted(q.id for q in evaluation.questions)
    first, second = client.get(url).get_data(as_text=True), client.get(url).get_data(as_text=True)
    positions = [first.index(f'id="pregunta-{qid}"') for qid in attempt.question_order]
    assert positions == sorted(positions)
    assert _questions_shown(first) == _questions_shown(second)


def _questions_shown(page: str) -> str:
    """The attempt's form (questions and options in their order), without its per-request CSRF token."""
    form = page[page.index('id="attempt-form"'):page.index("</form>", page.index('id="attempt-form"'))]
    return form.replace(form.split('name="csrf_token" value="')[1].split('"')[0], "")


def test_the_attempt_shows_the_sence_bar_with_time_left_and_the_close_button(client):
    course, evaluation, ana = setup(client)
    url = start(client, course, evaluation)

    page = client.get(url + "?p=1").get_data(as_text=True)

    assert 'class="sence-box card"' in page and 'id="sence-timer"' in page
    assert "<dt>Quedan</dt>" in page and "Cerrar sesión SENCE" in page
    assert f'data-base-title="{evaluation.title} · {course.title} · Pizarra"' in page


def test_the_question_page_reads_the_attempt_in_progress_as_plain_rows(client):
    """The attempt, its evaluation, its questions and its answers come in one statement and build no ORM object
    (the page's statements: the account with the course and its gate, the attempt)."""
    course, evaluation, _ = setup(client)
    url = start(client, course, evaluation)
    q1 = evaluation.questions[0]
    chosen = str(right_answer(q1)["options"][0])
    client.post(f"{url}/respuestas", data=answers_form(evaluation, {q1.id: chosen}), headers=HTMX)
    db.session.expunge_all()
    with orm_loads() as loaded, counting() as statements:
        page = client.get(url + "?p=1")

    assert page.status_code == 200 and f'value="{chosen}" checked' in page.get_data(as_text=True)
    assert len(statements) == 2, statements
    assert not [each for each in loaded if isinstance(each, EvaluationAttempt | Answer | Evaluation)], loaded


def test_the_answer_save_builds_no_orm_object_and_stores_first_and_changed_answers(client):
    """The account, the course, the attempt and its answers are read as plain rows and the answers written through
    Core: nothing goes through the ORM's identity map or unit of work."""
    course, evaluation, _ = setup(client)
    q1, q2 = evaluation.questions[:2]
    first, second, other = q1.options[0].id, q1.options[1].id, q2.options[0].id
    body = answers_form(evaluation, {q1.id: str(second), q2.id: str(other)})
    one, two = q1.id, q2.id
    url = start(client, course, evaluation)
    client.post(f"{url}/respuestas", data=answers_form(evaluation, {one: str(first)}), headers=HTMX)
    db.session.expunge_all()
    with orm_loads() as loaded:
        response = client.post(f"{url}/respuestas", data=body, headers=HTMX)

    assert "Respuestas guardadas a las" in response.get_data(as_text=True)
    assert loaded == []
    attempt_id = db.session.query(EvaluationAttempt).one().id
    assert stored_answers(attempt_id) == {one: {"options": [second]}, two: {"options": [other]}}
