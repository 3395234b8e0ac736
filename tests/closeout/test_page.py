"""The Cierre del curso page: DJ checklist with reasons, deadlines with days left, steps the OTEC ticks off."""

from datetime import timedelta

from app.closeout.models import Closeout
from app.extensions import db
from tests.closeout.helpers import finished_course, participant
from tests.factories import login, make_user


def test_the_dj_checklist_lists_completers_with_a_session_and_says_why_others_are_not(client):
    course = finished_course(ended_days_ago=3)
    participant(course, "Ana Pérez")
    participant(course, "Benito Soto", sessions=0)
    login(client, make_user("admin"))
    page = client.get(f"/cierre/cursos/{course.id}").get_data(as_text=True)
    dj, _, rest = page.partition("No califican")
    assert "Lista para la DJ del OTEC (1)" in dj and "Ana Pérez" in dj and "Aprobado" in dj
    assert "Benito Soto" in rest and "Sin sesiones SENCE contadas" in rest


def test_a_failed_participant_with_a_session_is_on_the_dj_list_too(client):
    course = finished_course(ended_days_ago=3)
    from tests.closeout.helpers import graded

    exam = graded(course)
    participant(course, "Carla Díaz", evaluation=exam, correct=2)  # grade below 4.0: reprobado, but completed
    login(client, make_user("admin"))
    page = client.get(f"/cierre/cursos/{course.id}").get_data(as_text=True)
    dj = page.partition("No califican")[0]
    assert "Lista para la DJ del OTEC (1)" in dj and "Carla Díaz" in dj and "Reprobado" in dj


def test_the_deadlines_count_the_days_left_from_the_end_date(client):
    course = finished_course(ended_days_ago=10)
    login(client, make_user("admin"))
    page = client.get(f"/cierre/cursos/{course.id}").get_data(as_text=True)
    end = course.end_date
    assert (end + timedelta(days=40)).strftime("%d-%m-%Y") in page and "faltan 30 días" in page
    assert (end + timedelta(days=60)).strftime("%d-%m-%Y") in page and "faltan 50 días" in page
    assert "hace 9 días" in page  # the DJ became available the day after the end


def test_ticking_a_step_records_who_and_when_and_can_be_undone(client):
    course = finished_course()
    admin = make_user("admin")
    login(client, admin)
    response = client.post(f"/cierre/cursos/{course.id}/pasos/otec_dj", data={"done": "1"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert page.count("— hecho el") == 1 and page.count("Desmarcar") == 1
    row = db.session.get(Closeout, course.id)
    assert row.otec_dj_at is not None and row.otec_dj_by_id == admin.id and not row.complete
    client.post(f"/cierre/cursos/{course.id}/pasos/otec_dj", data={"done": "0"})
    db.session.refresh(row)
    assert row.otec_dj_at is None


def test_an_unknown_step_changes_nothing(client):
    course = finished_course()
    login(client, make_user("admin"))
    response = client.post(f"/cierre/cursos/{course.id}/pasos/pagar", data={"done": "1"}, follow_redirects=True)
    assert "Ese paso no existe" in response.get_data(as_text=True)
    assert db.session.get(Closeout, course.id) is None


def test_a_course_crossing_the_year_is_flagged(client):
    from datetime import date

    course = finished_course(start_date=date(2025, 11, 3), end_date=date(2026, 1, 16))
    login(client, make_user("admin"))
    page = client.get(f"/cierre/cursos/{course.id}").get_data(as_text=True)
    assert "acción parcial y una complementaria" in page
