"""Who may open what: admins everything, instructors their courses, participants their enrolments."""

import pytest

from tests.factories import enroll, login, make_course, make_user


@pytest.fixture
def world():
    teacher, other_teacher = make_user("instructor"), make_user("instructor")
    ana, benito = make_user(full_name="Ana"), make_user(full_name="Benito")
    excel = make_course(title="Excel", instructors=[teacher])
    word = make_course(title="Word", instructors=[other_teacher])
    enroll(excel, ana)
    enroll(word, benito)
    return {"admin": make_user("admin"), "teacher": teacher, "other_teacher": other_teacher, "ana": ana,
            "benito": benito, "excel": excel, "word": word}


def test_a_participant_opens_their_course_but_not_another(client, world):
    login(client, world["ana"])
    assert client.get(f"/cursos/{world['excel'].id}").status_code == 200
    refused = client.get(f"/cursos/{world['word'].id}")
    assert refused.status_code == 403
    assert "No tienes permiso" in refused.get_data(as_text=True)


def test_a_participant_dashboard_lists_only_their_courses(client, world):
    login(client, world["ana"])
    page = client.get("/").get_data(as_text=True)
    assert "Excel" in page and "Word" not in page


def test_an_instructor_sees_their_course_not_another_instructors(client, world):
    login(client, world["teacher"])
    assert client.get(f"/cursos/{world['excel'].id}").status_code == 200
    assert client.get(f"/cursos/{world['word'].id}").status_code == 403


@pytest.mark.parametrize("who", ["teacher", "ana"])
def test_only_admins_reach_admin_pages(client, world, who):
    login(client, world[who])
    for url in ["/admin/cursos", "/admin/usuarios", f"/admin/cursos/{world['excel'].id}/editar",
                f"/admin/cursos/{world['excel'].id}/participantes"]:
        assert client.get(url).status_code == 403, url
    response = client.post(f"/admin/cursos/{world['excel'].id}/editar", data={"title": "Hackeado", "hours": "1"})
    assert response.status_code == 403


def test_an_instructor_cannot_edit_another_instructors_course(client, world):
    login(client, world["other_teacher"])
    response = client.post(f"/admin/cursos/{world['excel'].id}/editar", data={"title": "Hackeado", "hours": "1"})
    assert response.status_code == 403
    assert world["excel"].title == "Excel"


def test_an_admin_sees_every_course(client, world):
    login(client, world["admin"])
    page = client.get("/").get_data(as_text=True)
    assert "Excel" in page and "Word" in page
    assert client.get(f"/cursos/{world['word'].id}").status_code == 200


def test_signed_out_visitors_go_to_sign_in_instead_of_403(client, world):
    response = client.get("/admin/cursos")
    assert response.status_code == 302 and "/ingresar" in response.headers["Location"]


def test_unknown_course_ids_give_a_clear_404(client, world):
    login(client, world["admin"])
    response = client.get("/cursos/999999")
    assert response.status_code == 404
    assert "Página no encontrada" in response.get_data(as_text=True)
