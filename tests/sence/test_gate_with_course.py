"""A participant's GET, or a POST that changes no SENCE session (the answer save), reads the SENCE gate's live
session and latest attempt with the course (one statement); any other POST, or a gate asked for another moment,
reads them afresh."""

from datetime import timedelta

from flask_login import login_user

from app.courses.access import viewable_course_or_abort
from app.courses.service import gate_for
from app.sence.gate import gate_read_with_course, latest_attempt, live_session_and_latest_attempt
from app.timeutil import utcnow
from tests.courses.helpers import gated_course
from tests.factories import enroll, make_user, open_session
from tests.queries import counting


def _participant_in_session(db):
    course, _ = gated_course()
    user = make_user()
    enroll(course, user)
    sence_session = open_session(user, course, limit_minutes=60)
    db.session.commit()
    return course, user, sence_session.id


def test_a_get_reads_the_gate_with_the_course_as_its_own_query_would(app, db):
    course, user, session_id = _participant_in_session(db)
    with app.test_request_context(f"/cursos/{course.id}"):
        login_user(user)
        loaded = viewable_course_or_abort(course.id)
        with counting() as statements:
            gate = gate_for(user, loaded, page=True)
            attempt = latest_attempt(user.id, course.id)
        assert statements == []
        assert gate.sence_session.id == session_id and not gate.locked and attempt.kind == "login"
        assert gate.sence_session == live_session_and_latest_attempt(user.id, course.id)  # its own query
        assert attempt == latest_attempt(user.id, course.id)


def test_a_post_reads_the_gate_afresh(app, db):
    course, user, _ = _participant_in_session(db)
    with app.test_request_context(f"/cursos/{course.id}/lecciones/1/completada", method="POST"):
        login_user(user)
        loaded = viewable_course_or_abort(course.id)
        assert gate_read_with_course(user, course.id, page=False) == (False, None)
        with counting() as statements:
            assert gate_for(user, loaded).sence_session is not None
        assert len(statements) == 1


def test_the_answer_save_changes_no_sence_session_and_reads_the_gate_with_the_course(app, db):
    course, user, session_id = _participant_in_session(db)
    with app.test_request_context(f"/cursos/{course.id}/evaluaciones/1/intentos/1/respuestas", method="POST"):
        login_user(user)
        loaded = viewable_course_or_abort(course.id)
        with counting() as statements:
            gate = gate_for(user, loaded)
        assert statements == []
        assert gate.sence_session.id == session_id and not gate.locked


def test_a_gate_for_another_moment_reads_afresh(app, db):
    course, user, _ = _participant_in_session(db)
    with app.test_request_context(f"/cursos/{course.id}"):
        login_user(user)
        loaded = viewable_course_or_abort(course.id)
        assert gate_for(user, loaded, now=utcnow() + timedelta(hours=2)).locked  # the session ends in under an hour


def test_without_a_session_the_get_finds_the_gate_closed_without_a_query(app, db):
    course, _ = gated_course()
    user = make_user()
    enroll(course, user)
    with app.test_request_context(f"/cursos/{course.id}"):
        login_user(user)
        loaded = viewable_course_or_abort(course.id)
        with counting() as statements:
            gate = gate_for(user, loaded, page=True)
        assert gate.locked and gate.sence_session is None and statements == []
