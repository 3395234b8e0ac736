"""Pages without a transaction (app/extensions.py): on PostgreSQL their statements run in autocommit, their
connection goes back to the pool as an ordinary one, and a write that needs a transaction still gets one."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.courses.models import Enrollment
from app.evaluations.models import EvaluationAttempt
from app.extensions import autocommit_engine, db
from app.timeutil import utcnow
from tests.courses.helpers import gated_course, lesson_with, participant_signed_in
from tests.evaluations.test_taking import HTMX, answers_form, setup, start, stored_answers
from tests.factories import open_session
from tests.queries import sent_statements


def statements():
    """(SQL, whether the driver was in autocommit) for every statement sent meanwhile (PostgreSQL)."""
    return sent_statements(lambda cursor, statement, parameters: (statement.split()[0].upper(),
                                                                  cursor.connection.autocommit))


@pytest.fixture
def postgresql(backend):
    if backend != "postgresql":
        pytest.skip("SQLite's driver opens no transaction for a SELECT: there is nothing to leave out")


def _course_with_session(client):
    course, lesson = gated_course()
    user = participant_signed_in(client, course)
    open_session(user, course)
    second = lesson_with(course, "Segunda lección")
    urls = f"/cursos/{course.id}", f"/cursos/{course.id}/lecciones/{second.id}"
    ids = course.id, user.id, second.id
    db.session.commit()  # a server's request starts with no transaction: so does this test's
    return urls, ids


@pytest.mark.postgres_only
def test_the_course_and_lesson_pages_run_every_statement_in_autocommit(client, postgresql):
    urls, _ = _course_with_session(client)
    for url in urls:
        with statements() as sent:
            assert client.get(url).status_code == 200
        assert sent and all(autocommit for _, autocommit in sent), sent


@pytest.mark.postgres_only
def test_other_pages_keep_their_transaction(client, postgresql):
    _course_with_session(client)
    with statements() as sent:
        assert client.get("/").status_code == 200
    assert sent and not any(autocommit for _, autocommit in sent)


@pytest.mark.postgres_only
def test_the_autocommit_connection_goes_back_to_the_pool_as_an_ordinary_one(client, postgresql):
    urls, _ = _course_with_session(client)
    client.get(urls[0])

    assert not db.session().in_transaction()
    assert db.session.connection().connection.dbapi_connection.autocommit is False


@pytest.mark.postgres_only
def test_the_timer_poll_runs_in_autocommit_without_switching_a_pooled_connection(client, postgresql):
    _, (course_id, _, _) = _course_with_session(client)
    with statements() as sent:
        assert client.get(f"/cursos/{course_id}/timer", headers={"HX-Request": "true"}).status_code == 200
    assert sent == [("SELECT", True)]
    with autocommit_engine().connect() as connection:  # its connections stay in autocommit: none is switched back
        assert connection.connection.dbapi_connection.autocommit is True
    with db.engine.connect() as connection:
        assert connection.connection.dbapi_connection.autocommit is False


def test_opening_a_lesson_without_transaction_remembers_it(client):
    urls, (course_id, user_id, lesson_id) = _course_with_session(client)
    assert client.get(urls[1]).status_code == 200
    db.session.rollback()

    remembered = db.session.execute(select(Enrollment.last_lesson_id).where(
        Enrollment.course_id == course_id, Enrollment.user_id == user_id)).scalar_one()
    assert remembered == lesson_id


@pytest.mark.postgres_only
def test_an_overdue_attempt_is_graded_in_a_transaction_of_its_own(client, postgresql):
    course, evaluation, _ = setup(client, time_limit_minutes=20)
    url = start(client, course, evaluation)
    attempt = db.session.query(EvaluationAttempt).one()
    attempt.deadline_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    with statements() as sent:
        page = client.get(url).get_data(as_text=True)

    assert "Se acabó el tiempo" in page
    writes = [autocommit for statement, autocommit in sent if statement in {"UPDATE", "INSERT"}]
    assert writes and not any(writes), sent
    assert sent[0][1] is True  # the page started in autocommit


def test_a_sqlite_file_commits_through_a_write_ahead_log_and_syncs_every_commit(backend):
    """WAL: a commit no longer creates and deletes a journal, and readers are not blocked while one commits;
    synchronous FULL keeps a committed answer through a power cut. Foreign keys stay on."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL has its own log")
    with db.engine.connect() as connection:
        pragma = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                  for name in ("journal_mode", "synchronous", "foreign_keys")}
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}, pragma
    database = db.engine.url.database
    with db.engine.connect() as reader, db.engine.connect() as writer:
        writer.exec_driver_sql("BEGIN EXCLUSIVE")  # a rollback journal would lock readers out
        writer.exec_driver_sql("UPDATE users SET full_name = full_name")
        assert reader.exec_driver_sql("SELECT count(*) FROM users").scalar() >= 0  # not "database is locked"
        writer.exec_driver_sql("ROLLBACK")
    assert Path(f"{database}-wal").exists()


def _writes(sent) -> list[bool]:
    return [autocommit for statement, autocommit in sent if statement in {"UPDATE", "INSERT"}]


@pytest.mark.postgres_only
def test_an_answer_save_of_one_answer_runs_every_statement_in_autocommit(client, postgresql):
    course, evaluation, _ = setup(client)
    q1 = evaluation.questions[0]
    qid, options = q1.id, [o.id for o in q1.options[:2]]
    url = start(client, course, evaluation)
    for option in options:  # a first answer (INSERT), then a changed one (UPDATE)
        body = {"shown": str(qid), f"q{qid}": str(option)}
        with statements() as sent:
            assert "Respuestas guardadas" in client.post(f"{url}/respuestas", data=body, headers=HTMX).text
        assert len(_writes(sent)) == 1 and all(autocommit for _, autocommit in sent), sent
    assert stored_answers(db.session.query(EvaluationAttempt).one().id) == {qid: {"options": [options[1]]}}


@pytest.mark.postgres_only
def test_an_answer_save_of_several_answers_writes_them_in_one_transaction(client, postgresql):
    course, evaluation, _ = setup(client, layout="all")
    q1, q2 = evaluation.questions[:2]
    chosen = {q1.id: q1.options[0].id, q2.id: q2.options[0].id}
    body = answers_form(evaluation, {qid: str(option) for qid, option in chosen.items()})
    url = start(client, course, evaluation)
    with statements() as sent:
        client.post(f"{url}/respuestas", data=body, headers=HTMX)
    assert sent[0][1] is True  # the reads ran in autocommit
    assert _writes(sent) == [False], sent  # one INSERT of both rows, in a transaction
    assert stored_answers(db.session.query(EvaluationAttempt).one().id) == {
        qid: {"options": [option]} for qid, option in chosen.items()}


@pytest.mark.postgres_only
def test_an_answer_save_after_the_deadline_grades_the_attempt_in_a_transaction(client, postgresql):
    course, evaluation, _ = setup(client, time_limit_minutes=20)
    q1 = evaluation.questions[0]
    body = answers_form(evaluation, {q1.id: str(q1.options[0].id)})
    url = start(client, course, evaluation)
    attempt = db.session.query(EvaluationAttempt).one()
    attempt.deadline_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    with statements() as sent:
        response = client.post(f"{url}/respuestas", data=body, headers=HTMX)

    assert "Se acabó el tiempo" in response.text and response.headers["HX-Redirect"].endswith(url)
    assert _writes(sent) and not any(_writes(sent)), sent
    db.session.expire_all()
    assert db.session.get(EvaluationAttempt, attempt.id).submitted_at is not None


@pytest.mark.postgres_only
def test_a_postgresql_cursor_describes_its_columns_only_when_read(app, postgresql):
    """psycopg builds a Column per column whenever description is read; SQLAlchemy reads it after every statement
    but, for a statement it has run before, only asks whether it is there."""
    from app.extensions import DescriptionOnDemandCursor

    cursor = db.session.connection().connection.dbapi_connection.cursor()
    assert isinstance(cursor, DescriptionOnDemandCursor)
    cursor.execute("SELECT 1 AS one, now() AS at")
    description = cursor.description
    assert description._columns is None and len(description) == 2
    assert [(column.name, column.type_code) for column in description] == [("one", 23), ("at", 1184)]
    assert description[-1].name == "at" and [c.name for c in description[-1:]] == ["at"]
    cursor.execute("SELECT")
    assert cursor.description == []
    cursor.execute("SET LOCAL statement_timeout = 0")
    assert cursor.description is None
    for _ in range(3):  # a new statement, then the cached one: both get their keys
        assert db.session.execute(select(Enrollment.id, Enrollment.user_id).limit(0)).keys() == ["id", "user_id"]
