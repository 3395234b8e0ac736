"""The URLs a worker remembers (app.Pizarra.url_for) are the ones Flask would build, under any mount point."""

from flask import url_for


def test_a_remembered_url_follows_the_mount_point(app):
    for root in ("", "/pizarra", "/otra"):
        with app.test_request_context("/", base_url=f"http://localhost{root}"):
            assert url_for("courses.dashboard") == f"{root}/"
            assert url_for("static", filename="css/app.css").startswith(f"{root}/static/css/app.css?v=")


def test_a_remembered_url_is_the_one_for_its_values(app):
    with app.test_request_context("/"):
        for _ in range(2):
            assert url_for("courses.course", course_id=1) == "/cursos/1"
            assert url_for("courses.course", course_id=2) == "/cursos/2"
            assert url_for("courses.course", course_id=2, leccion=5) == "/cursos/2?leccion=5"
            assert url_for("courses.course", course_id=2, leccion=None) == "/cursos/2"
            assert url_for("courses.lesson", course_id=2, lesson_id=5) == "/cursos/2/lecciones/5"
            assert url_for("privacy.notice", next="/cursos/2?a=b") == "/privacidad?next=/cursos/2?a%3Db"
    with app.test_request_context("/", base_url="http://localhost/otra"):
        assert url_for("courses.course", course_id=1) == "/otra/cursos/1"


def test_external_urls_and_anchors_are_built_each_time(app):
    with app.test_request_context("/", base_url="http://localhost"):
        assert url_for("courses.dashboard", _external=True) == "http://localhost/"
        assert url_for("courses.dashboard", _anchor="x") == "/#x"
    with app.test_request_context("/", base_url="https://pizarra.example.cl"):
        assert url_for("courses.dashboard", _external=True) == "https://pizarra.example.cl/"
        assert url_for("courses.course", course_id=1, _external=True) == "https://pizarra.example.cl/cursos/1"


def test_the_remembered_urls_are_bounded(app):
    with app.test_request_context("/"):
        for course_id in range(app.MAX_REMEMBERED_URLS + 10):
            url_for("courses.course", course_id=course_id)
        assert len(app._built_urls) <= app.MAX_REMEMBERED_URLS
        assert url_for("courses.course", course_id=3) == "/cursos/3"
