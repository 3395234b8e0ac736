"""The CSRF token that templates write (csrf_token(), app/security.py) is remembered per session: signing it anew
for every page cost ~3 % of a course page, and the signature's time is not checked. It still belongs to one session
only. (Flask-WTF forms sign theirs as before.)"""

import re
import time

from tests.courses.helpers import lesson_with
from tests.factories import PASSWORD, enroll, make_course, make_user

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def login(client, user):
    """Through the sign-in form, with its CSRF token."""
    token = TOKEN.search(client.get("/ingresar").get_data(as_text=True)).group(1)
    answer = client.post("/ingresar", data={"csrf_token": token, "identifier": user.email, "password": PASSWORD})
    assert answer.status_code == 302


def _tokens(client, url: str) -> set[str]:
    return set(TOKEN.findall(client.get(url).get_data(as_text=True)))


def test_pages_of_one_session_carry_one_token_and_it_works(app, db, csrf_on):
    course = make_course(sence={"login_required": False})
    user = make_user()
    enroll(course, user)
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        login(client, user)
    tokens = _tokens(first, f"/cursos/{course.id}")
    time.sleep(1.1)  # a token signed anew carries a new second in its signature
    tokens |= _tokens(first, f"/cursos/{course.id}")
    assert len(tokens) == 1
    assert _tokens(second, f"/cursos/{course.id}").isdisjoint(tokens)  # another sign-in, another token

    answer = first.post("/salir", data={"csrf_token": tokens.pop()})
    assert answer.status_code == 302
    assert "/ingresar" in first.get("/").headers["Location"]


def test_a_token_of_another_session_is_refused(app, db, csrf_on):
    user, other = make_user(), make_user()
    mine, theirs = app.test_client(), app.test_client()
    login(mine, user)
    login(theirs, other)
    stolen = _tokens(theirs, "/").pop()

    answer = mine.post("/salir", data={"csrf_token": stolen})

    assert answer.status_code == 400
    assert "El formulario expiró o no es válido" in answer.get_data(as_text=True)
    assert mine.get("/").status_code == 200  # still signed in


def test_with_a_time_limit_every_page_signs_the_token_again(app, db, csrf_on):
    user = make_user()
    client = app.test_client()
    login(client, user)
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    try:
        page = _tokens(client, "/").pop()
        assert client.post("/salir", data={"csrf_token": page}).status_code == 302
    finally:
        app.config["WTF_CSRF_TIME_LIMIT"] = None


def _lesson_done(client, course, lesson, token: str):
    return client.post(f"/cursos/{course.id}/lecciones/{lesson.id}/completada", data={"csrf_token": token})


def test_a_token_accepted_before_is_still_refused_to_another_session(app, db, csrf_on):
    """Accepted tokens are remembered per worker (validate_csrf_once) with the session's own token in the key."""
    course = make_course(sence={"login_required": False})
    lesson = lesson_with(course)
    user, other = make_user(), make_user()
    for person in (user, other):
        enroll(course, person)
    mine, theirs = app.test_client(), app.test_client()
    login(mine, user)
    login(theirs, other)
    token = _tokens(theirs, f"/cursos/{course.id}").pop()
    assert _lesson_done(theirs, course, lesson, token).status_code == 303
    assert _lesson_done(theirs, course, lesson, token).status_code == 303  # remembered now

    answer = _lesson_done(mine, course, lesson, token)

    assert answer.status_code == 400
    assert "El formulario expiró o no es válido" in answer.get_data(as_text=True)


def test_a_remembered_token_is_checked_again_once_there_is_a_time_limit(app, db, csrf_on):
    course = make_course(sence={"login_required": False})
    lesson = lesson_with(course)
    user = make_user()
    enroll(course, user)
    client = app.test_client()
    login(client, user)
    token = _tokens(client, f"/cursos/{course.id}").pop()
    assert _lesson_done(client, course, lesson, token).status_code == 303
    app.config["WTF_CSRF_TIME_LIMIT"] = 1
    try:
        time.sleep(2.1)
        assert _lesson_done(client, course, lesson, token).status_code == 400
    finally:
        app.config["WTF_CSRF_TIME_LIMIT"] = None


def test_a_forged_token_is_refused(app, db, csrf_on):
    user = make_user()
    client = app.test_client()
    login(client, user)
    token = _tokens(client, "/").pop()
    assert client.post("/salir", data={"csrf_token": token[:-3] + "AAA"}).status_code == 400
    assert client.post("/salir", data={"csrf_token": ""}).status_code == 400
    assert client.post("/salir", data={"csrf_token": token}).status_code == 302
