from app.formatting import cl_number, plural
from tests.factories import enroll, login, make_course, make_user


def test_numbers_are_written_the_chilean_way():
    assert cl_number(24) == "24,0"
    assert cl_number(1234.56, 2) == "1.234,56"
    assert cl_number(None) == "—"


def test_counted_nouns_agree_with_their_number():
    assert plural(1, "intento") == "1 intento"
    assert plural(3, "participante") == "3 participantes"
    assert plural(0, "archivo") == "0 archivos"
    assert plural(2, "sesión", "sesiones") == "2 sesiones"
    assert plural(2000, "participante") == "2.000 participantes"


def test_course_hours_show_a_decimal_comma(client):
    course = make_course(title="Excel", hours=24)
    participant = make_user()
    enroll(course, participant)
    login(client, participant)
    assert "24,0 h" in client.get("/").get_data(as_text=True)
    client.post("/salir")
    login(client, make_user("admin"))
    assert "24,0 h" in client.get("/admin/cursos").get_data(as_text=True)
