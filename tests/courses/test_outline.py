"""The course page's outline is kept by each worker, so it must follow every edit at once (app/courses/outline.py)."""

from app.courses import service
from app.courses.models import Course
from app.evaluations.models import Evaluation
from tests.courses.helpers import PDF, PNG, gated_course, lesson_with, participant_signed_in, upload
from tests.evaluations.helpers import make_evaluation
from tests.factories import make_course, open_session
from tests.queries import counting


def _version(db, course) -> int:
    db.session.expire_all()
    return db.session.get(Course, course.id).content_version


def test_every_change_to_lessons_and_material_gives_the_course_a_new_version(db):
    course = make_course()
    seen = [_version(db, course)]

    def changed():
        seen.append(_version(db, course))
        return seen[-1] != seen[-2]

    first = lesson_with(course, "Uno")
    assert changed()
    second = lesson_with(course, "Dos")
    assert changed()
    service.update_lesson(first, "Uno (revisada)", "Otro texto")
    assert changed()
    assert service.move_lesson(second, "up") and changed()
    material = upload(first, "Guía.pdf", PDF)
    assert changed()
    upload(first, "Mapa.png", PNG)
    assert changed()
    service.rename_material(material, "La guía")
    assert changed()
    assert service.move_material(material, "down") and changed()
    service.delete_material(material)
    assert changed()
    service.delete_lesson(second)
    assert changed()
    assert len(set(seen)) == len(seen)  # random stamps: never a value seen before


def test_an_evaluation_added_renamed_or_published_changes_the_version_too(db):
    course = make_course()
    before = _version(db, course)
    evaluation = make_evaluation(course)
    after_adding = _version(db, course)
    evaluation = db.session.get(Evaluation, evaluation.id)
    evaluation.title = "Prueba final"
    evaluation.published = not evaluation.published
    db.session.commit()
    assert len({before, after_adding, _version(db, course)}) == 3


def test_progress_and_sessions_do_not_touch_the_version(client, db):
    course, lesson = gated_course()
    user = participant_signed_in(client, course)
    before = _version(db, course)
    open_session(user, course)
    service.set_completed(user, lesson, True)
    assert client.get(f"/cursos/{course.id}").status_code == 200
    assert _version(db, course) == before


def test_a_participant_sees_each_edit_on_the_next_view(client, db):
    course, lesson = gated_course()
    user = participant_signed_in(client, course)
    open_session(user, course)
    assert "Introducción" in client.get(f"/cursos/{course.id}").get_data(as_text=True)
    service.update_lesson(lesson, "Bienvenida", "Texto **nuevo**")
    page = client.get(f"/cursos/{course.id}").get_data(as_text=True)
    assert "Bienvenida" in page and "<strong>nuevo</strong>" in page and "Introducción" not in page
    extra = lesson_with(course, "Cierre", "Fin")
    page = client.get(f"/cursos/{course.id}/lecciones/{extra.id}").get_data(as_text=True)
    assert page.count("Cierre") >= 2  # in the list and as the lesson shown
    service.delete_lesson(extra)
    assert client.get(f"/cursos/{course.id}/lecciones/{extra.id}").status_code == 404


def test_a_warm_course_page_reads_only_what_is_the_participants(client, db):
    """The account with the course, the enrollment, its completed lessons, the certificate folio, the live SENCE
    session and the latest SENCE attempt, in one statement."""
    course, _ = gated_course()
    user = participant_signed_in(client, course)
    open_session(user, course)
    page = f"/cursos/{course.id}"
    client.get(page)
    db.session.expunge_all()
    with counting() as statements:
        assert client.get(page).status_code == 200
    assert len(statements) == 1, statements
    assert not any(table in statement for statement in statements
                   for table in ("FROM lessons", "FROM materials", "FROM evaluations"))
