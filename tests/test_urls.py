"""The URLs a worker remembers (app.Pizarra.url_for) are the ones Flask would build, under any mount point."""

from flask import url_for


def test_a_remembered_url_follows_the_mount_point(app):
    for root in ("", "/pizarra", "/otra"):
        with app.test_request_context("/", base_url=f"http://localhost{root}"):
            assert url_for("courses.dashboard") == f"{root}/"
            assert url_for("static", filename="css/app.css").startswith(f"{root}/static/css/app.css?v=")


def test_urls_with_values_are_built_each_time(app):
    with app.test_request_context("/"):
        assert url_for("courses.course", course_id=1) == "/cursos/1"
        assert url_for("courses.course", course_id=2) == "/cursos/2"
        assert url_for("courses.dashboard", _external=True) == "http://localhost/"
        assert url_for("courses.dashboard", _anchor="x") == "/#x"
