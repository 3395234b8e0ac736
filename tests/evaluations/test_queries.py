"""What the question page and the answer save send to the database (issue 15): the attempt, its evaluation, its
questions with their options and its answers in one statement, whatever the number of questions;
a save reads its SENCE gate with the course, adds one UPDATE and reads nothing again after its commit. On SQLite
and PostgreSQL alike."""

import re

import pytest

from app.evaluations.models import EvaluationAttempt
from app.extensions import db
from app.sic.models import SicAction
from tests.evaluations.helpers import make_evaluation
from tests.evaluations.test_taking import HTMX, QUIZ, answers_form, setup, start, stored_answers
from tests.factories import login, open_session
from tests.queries import counting
from tests.sic.conftest import participant, sic_course

# The request's common course context (user, course, enrollment, the live SENCE session, the SENCE bar's last
# attempt) is the course page's; these figures are what the evaluation pages add to it. Both pages as a whole
# stay within TOTAL (issue 15 started from 10 on the question page and 12 on the save).
EVALUATION_READS = 1
TOTAL = 3
MAIN_TABLE = re.compile(r"(?:FROM|UPDATE|INSERT INTO)\s+(\w+)")


def _evaluation_statements(statements: list[str]) -> list[str]:
    """The statements whose own table is an evaluation table (not a subquery's: the SIC recorder's has one)."""
    return [s for s in statements if (m := MAIN_TABLE.search(s)) and m.group(1).startswith("evaluation")]


def _selects_of(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if s.lstrip().startswith("SELECT") and f"FROM {table} " in f"{s} "]


@pytest.mark.parametrize("layout", ["one", "all"])
def test_the_question_page_reads_the_attempt_in_one_statement_whatever_the_number_of_questions(client, layout):
    course, evaluation, _ = setup(client, layout=layout, shuffle_options=True)
    q1 = evaluation.questions[0]
    chosen = q1.options[1].id
    url = start(client, course, evaluation)
    client.post(f"{url}/respuestas", data=answers_form(evaluation, {q1.id: str(chosen)}), headers=HTMX)
    for page in ("?p=1", "?p=2", f"?p={len(QUIZ) + 1}", ""):
        db.session.expunge_all()  # nothing cached in the identity map: the request loads what it needs
        with counting() as statements:
            response = client.get(url + page)
        assert response.status_code == 200
        if layout == "all" or page in ("?p=1", ""):
            assert f'value="{chosen}" checked' in response.get_data(as_text=True)
        reads = _evaluation_statements(statements)
        assert len(reads) == EVALUATION_READS, reads
        assert not [s for s in statements if not s.lstrip().startswith("SELECT")], statements
        assert len(_selects_of(statements, "users")) == 1, statements
        assert len(statements) <= TOTAL, statements


def test_an_answer_save_is_one_update_and_reads_nothing_again_after_its_commit(client):
    course, evaluation, _ = setup(client)
    q1, q2 = evaluation.questions[:2]
    form = {qid: answers_form(evaluation, {qid: str(option)})
            for qid, option in ((q1.id, q1.options[0].id), (q2.id, q2.options[0].id))}
    first, second, other = q1.options[0].id, q1.options[1].id, q2.options[0].id
    url = start(client, course, evaluation)
    attempt_id = db.session.query(EvaluationAttempt).one().id
    client.post(f"{url}/respuestas", data=answers_form(evaluation, {q1.id: str(first)}), headers=HTMX)
    for option in (second, first):
        body = answers_form(evaluation, {q1.id: str(option)})
        db.session.expunge_all()
        with counting() as statements:
            response = client.post(f"{url}/respuestas", data=body, headers=HTMX)
        assert "Respuestas guardadas a las" in response.get_data(as_text=True)
        writes = [s for s in statements if not s.lstrip().startswith("SELECT")]
        assert len(writes) == 1 and writes[0].startswith("UPDATE evaluation_answers"), statements
        assert len(_evaluation_statements(statements)) == EVALUATION_READS + 1, statements
        assert len(_selects_of(statements, "users")) == 1, statements  # not reloaded after the commit
        assert not [s for s in statements if "sic_actions" in s], statements  # the course has no SIC
        assert len(statements) <= TOTAL, statements
        # the account with the course and its gate, the attempt with its questions and answers, the UPDATE
        assert len(statements) == 3, statements
        assert stored_answers(attempt_id) == {q1.id: {"options": [option]}}
    db.session.expunge_all()
    with counting() as statements:  # an unchanged answer writes nothing
        client.post(f"{url}/respuestas", data=form[q1.id], headers=HTMX)
    assert not [s for s in statements if not s.lstrip().startswith("SELECT")], statements
    db.session.expunge_all()
    with counting() as statements:  # a first answer to another question is one INSERT
        client.post(f"{url}/respuestas", data=form[q2.id], headers=HTMX)
    assert [s.split("(")[0].strip() for s in statements if not s.lstrip().startswith("SELECT")] \
        == ["INSERT INTO evaluation_answers"], statements
    assert stored_answers(attempt_id) == {q1.id: {"options": [first]}, q2.id: {"options": [other]}}


def test_an_answer_save_in_a_sic_course_is_still_recorded_as_a_click(client):
    course = sic_course(lessons=2, modules=("M1",))
    evaluation = make_evaluation(course)
    user = participant(course)
    open_session(user, course)
    login(client, user)
    question = evaluation.questions[0]
    body = {"shown": str(question.id), f"q{question.id}": str(question.options[0].id)}
    ids = (user.id, course.id, evaluation.id)
    url = start(client, course, evaluation)
    before = db.session.query(SicAction).count()
    db.session.expunge_all()
    with counting() as statements:
        response = client.post(f"{url}/respuestas", data=body, headers=HTMX)
    assert response.status_code == 200
    assert len([s for s in statements if s.startswith("INSERT INTO sic_actions")]) == 1, statements
    assert len(_selects_of(statements, "users")) == 1, statements
    last = db.session.query(SicAction).order_by(SicAction.id.desc()).first()
    assert db.session.query(SicAction).count() == before + 1
    assert (last.user_id, last.course_id, last.evaluation_id) == ids


@pytest.mark.parametrize("read", ["own_attempt", "own_attempt_on_paper"])
def test_a_first_answer_saved_meanwhile_by_another_request_is_overwritten_by_this_save(client, read):
    """Two saves of a first answer race (two tabs): the second INSERT breaks the unique key; the save starts
    again, finds the other's row and stores its own value over it with the UPDATE. Whether it was given the
    EvaluationAttempt (submitting) or the plain AttemptOnPaper (the answer save)."""
    from app.evaluations import service
    from app.evaluations.models import Answer

    course, evaluation, ana = setup(client)
    q1 = evaluation.questions[0]
    qid, theirs, ours = q1.id, q1.options[0].id, q1.options[1].id
    ids = [course.id, evaluation.id, ana.id]
    start(client, course, evaluation)
    ids.append(db.session.query(EvaluationAttempt).one().id)
    db.session.expunge_all()
    attempt = getattr(service, read)(*ids)
    assert not attempt.answers
    with db.engine.begin() as other:  # the other tab's save, committed after this one read the attempt
        other.execute(Answer.__table__.insert().values(attempt_id=ids[3], question_id=qid,
                                                       value={"options": [theirs]}))
    with counting() as statements:
        assert service.save_answers(attempt, {qid: [str(ours)]}) == 1
    writes = [s.split(" SET")[0].split(" (")[0] for s in statements if not s.lstrip().startswith("SELECT")]
    assert writes == ["INSERT INTO evaluation_answers", "UPDATE evaluation_answers"], statements
    assert stored_answers(ids[3]) == {qid: {"options": [ours]}}
