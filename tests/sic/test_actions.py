"""Recording participants' clicks for dedication time: one statement per click, nothing on the timer poll."""


import pytest
from sqlalchemy import func, select

from app.courses.models import Lesson, Material
from app.extensions import db
from app.sic import service
from app.sic.models import SicAction
from tests.evaluations.helpers import make_evaluation
from tests.factories import login, make_user, open_session
from tests.queries import counting
from tests.sic.conftest import participant, sic_course


def _actions() -> int:
    return db.session.execute(select(func.count()).select_from(SicAction)).scalar()


@pytest.fixture
def signed_in(client, db):
    course = sic_course(lessons=2, modules=("M1",))
    user = participant(course)
    open_session(user, course)
    login(client, user)
    return course, user


@pytest.mark.parametrize("sic_on", [True, False])
def test_the_timer_poll_stays_one_query_and_records_nothing(client, signed_in, sic_on):
    course, _ = signed_in
    service.settings_of(course).enabled = sic_on
    db.session.commit()
    before, url = _actions(), f"/cursos/{course.id}/timer"
    for _ in range(3):
        db.session.expunge_all()
        with counting() as statements:
            response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code in (200, 204)
        assert len(statements) == 1, statements
    assert _actions() == before


def test_a_lesson_view_costs_no_query_to_find_out_and_one_insert_only_with_sic_on(client, signed_in):
    """The course's SIC settings come with the course (one query the page makes anyway): with SIC off nothing
    more is sent; with SIC on, one INSERT ... SELECT, which checks again that SIC is on."""
    course, user = signed_in
    lesson = course.lessons[1]
    url, ids = f"/cursos/{course.id}/lecciones/{lesson.id}", (user.id, course.id, lesson.id)
    counts = {}
    for sic_on in (False, True):
        service.settings_of(db.session.merge(course)).enabled = sic_on
        db.session.commit()
        assert client.get(url).status_code == 200  # the first view records the lesson as the participant's place
        db.session.expunge_all()
        before = _actions()
        with counting() as statements:
            assert client.get(url).status_code == 200
        inserts = [s for s in statements if "sic_actions" in s]
        assert len(inserts) == (1 if sic_on else 0)
        assert not [s for s in statements if "course_sic" in s and "JOIN" not in s and "sic_actions" not in s]
        if sic_on:
            assert statements[-1].startswith("INSERT INTO sic_actions")
        assert _actions() == before + (1 if sic_on else 0)
        counts[sic_on] = len(statements)
    assert counts[True] == counts[False] + 1
    last = db.session.execute(select(SicAction).order_by(SicAction.id.desc())).scalars().first()
    assert (last.user_id, last.course_id, last.lesson_id) == ids


def test_files_evaluations_and_foreign_ids_are_recorded_safely(client, signed_in):
    course, user = signed_in
    lesson = course.lessons[0]
    material = Material(lesson_id=lesson.id, kind="pdf", original_name="guia.pdf", stored_name="sic-guia.pdf",
                        content_type="application/pdf", size=4, position=1)
    db.session.add(material)
    db.session.commit()
    evaluation = make_evaluation(course)
    service.record_action(user.id, course.id, material_id=material.id)
    service.record_action(user.id, course.id, evaluation_id=evaluation.id)
    service.record_action(user.id, course.id, lesson_id=999_999)  # not this course's: kept without a lesson
    client.get(f"/cursos/{course.id}/evaluaciones/{evaluation.id}")  # the evaluation's page is a click too
    rows = db.session.execute(select(SicAction.lesson_id, SicAction.evaluation_id).order_by(SicAction.id)).all()
    assert [tuple(row) for row in rows] == [(lesson.id, None), (None, evaluation.id), (None, None),
                                            (None, evaluation.id)]


def test_nothing_is_recorded_for_staff_or_courses_without_sic(client, db):
    course = sic_course(lessons=1, modules=("M1",))
    service.settings_of(course).enabled = False
    db.session.commit()
    user = participant(course)
    open_session(user, course)
    login(client, user)
    client.get(f"/cursos/{course.id}/lecciones/{course.lessons[0].id}")
    other = sic_course(lessons=1, modules=("M1",))
    client.post("/salir")
    login(client, make_user("admin"))
    client.get(f"/cursos/{other.id}/lecciones/{other.lessons[0].id}")
    assert _actions() == 0
    assert db.session.get(Lesson, other.lessons[0].id) is not None
