"""A copied sign-in cookie stops working after sign-out, a password change, deactivation or "cerrar sesiones"."""

import time

from app.auth import service
from app.auth.models import SignedInUser, User
from tests.factories import PASSWORD, enroll, login, make_course, make_user


def _copy_of(client, app):
    """Another browser holding a copy of `client`'s session cookie (stolen, or left on a shared computer)."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def _signed_in(client) -> bool:
    response = client.get("/")
    return response.status_code == 200


def test_a_copied_cookie_works_until_the_owner_signs_out(app, client, db):
    user = make_user(full_name="Ana Pérez")
    login(client, user)
    copy = _copy_of(client, app)
    assert "Ana Pérez" in copy.get("/").get_data(as_text=True)

    client.post("/salir")

    assert not _signed_in(copy)
    assert "/ingresar" in copy.get("/").headers["Location"]
    login(client, user)  # signing in again works, with a new cookie
    assert _signed_in(client)


def test_a_signed_out_copy_gets_no_timer_either(app, client, db):
    """The timer poll reads the cookie without loading the User: it checks the session version in its query."""
    course = make_course(sence={"login_required": True})
    user = make_user()
    enroll(course, user)
    login(client, user)
    copy = _copy_of(client, app)
    assert copy.get(f"/cursos/{course.id}/timer", headers={"HX-Request": "true"}).status_code == 200

    client.post("/salir")

    signed_out = copy.get(f"/cursos/{course.id}/timer", headers={"HX-Request": "true"})
    assert signed_out.status_code == 286  # htmx stops polling
    assert "/ingresar" in signed_out.get_data(as_text=True)


def test_a_password_change_signs_out_every_other_copy_but_not_this_browser(app, client, db):
    user = make_user()
    login(client, user)
    copy = _copy_of(client, app)

    response = client.post("/clave", data={"current": PASSWORD, "new": "otra-clave-99", "confirm": "otra-clave-99"})

    assert response.status_code == 302
    assert _signed_in(client)
    assert not _signed_in(copy)


def test_deactivation_ends_the_cookies_for_good(app, client, db):
    user = make_user()
    login(client, user)
    copy = _copy_of(client, app)
    admin = app.test_client()
    login(admin, make_user("admin"))
    form = {"full_name": user.full_name, "run": user.run, "email": user.email, "password": ""}

    admin.post(f"/admin/usuarios/{user.id}", data={**form, "active": ""})
    assert not _signed_in(copy)
    admin.post(f"/admin/usuarios/{user.id}", data={**form, "active": "y"})

    assert db.session.get(User, user.id).active
    assert not _signed_in(copy) and not _signed_in(client)  # reactivation does not revive old cookies


def test_an_admin_closes_every_session_of_a_user(app, client, db):
    user = make_user(full_name="Ana Pérez")
    login(client, user)
    copy = _copy_of(client, app)
    admin = app.test_client()
    login(admin, make_user("admin"))

    response = admin.post(f"/admin/usuarios/{user.id}/cerrar-sesiones", follow_redirects=True)

    assert "Se cerraron las sesiones de Ana Pérez en todos sus dispositivos." in response.get_data(as_text=True)
    assert not _signed_in(client) and not _signed_in(copy)
    login(client, user)
    assert _signed_in(client)


def test_a_cookie_from_before_this_change_is_refused_not_an_error(client, db):
    """Cookies issued before session versions existed held the bare id: they sign out cleanly."""
    user = make_user()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert client.get("/").status_code == 302


def test_an_unknown_account_costs_a_password_check_like_a_real_one(app, db):
    """No enumeration by timing: the comparison uses the slowest parts of each path, many times apart."""
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:200000"
    try:
        make_user(email="real@otec.cl")

        def fastest(identifier: str) -> float:
            times = []
            for _ in range(3):
                started = time.perf_counter()
                assert service.authenticate(identifier, "incorrecta") is None
                times.append(time.perf_counter() - started)
            return min(times)

        real, unknown = fastest("real@otec.cl"), fastest("nadie@otec.cl")
    finally:
        app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    assert unknown > real / 3, (real, unknown)  # before: 0.1 ms against ~110 ms


def test_a_page_that_only_reads_the_account_gets_it_as_a_row_and_still_refuses_old_cookies(app, client, db):
    """The course page (signed_in_as_row) reads the account through Core, not the ORM, with the same checks."""
    course = make_course(sence={"login_required": False})
    user = make_user(full_name="Ana Pérez")
    enroll(course, user)
    with app.test_request_context(f"/cursos/{course.id}"):
        row = service.load_user(user.get_id())
        assert isinstance(row, SignedInUser)
        assert (row.id, row.full_name, row.is_participant, row.is_staff) == (user.id, "Ana Pérez", True, False)
    with app.test_request_context("/cuenta"):  # a page that changes the account keeps the User
        assert isinstance(service.load_user(user.get_id()), User)
    login(client, user)
    copy = _copy_of(client, app)
    assert "Ana Pérez" in copy.get(f"/cursos/{course.id}").get_data(as_text=True)

    user.end_sessions()  # "cerrar sesiones"
    db.session.commit()

    assert "/ingresar" in copy.get(f"/cursos/{course.id}").headers["Location"]
    login(client, user)
    user.active = False
    db.session.commit()
    assert "/ingresar" in client.get(f"/cursos/{course.id}").headers["Location"]
