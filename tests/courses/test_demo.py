"""`seed-demo` gives «Excel intermedio» three real lessons: Markdown text, a PDF and a short video."""

from pathlib import Path

from sqlalchemy import func, select

from app.courses.models import Lesson, Material
from app.demo import seed_demo


def test_the_demo_course_has_three_lessons_with_a_pdf_and_a_video(app, db):
    course = seed_demo()
    seed_demo()  # idempotent

    assert [lesson.title for lesson in course.lessons] == [
        "Tablas dinámicas", "Funciones de búsqueda", "Gráficos para el trabajo diario"]
    assert all(lesson.body.strip() for lesson in course.lessons)
    kinds = {m.kind: m for m in db.session.execute(select(Material)).scalars()}
    assert set(kinds) == {"pdf", "video"}
    for material in kinds.values():
        stored = Path(app.config["UPLOAD_DIR"]) / material.stored_name
        assert stored.stat().st_size == material.size > 0
        assert material.size < 300 * 1024
    assert db.session.execute(select(func.count(Lesson.id)).where(Lesson.course_id == course.id)).scalar() == 3
