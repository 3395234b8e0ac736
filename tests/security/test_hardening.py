"""Bounded request bodies, ids the database can hold, no caching of signed-in pages, HSTS, the demo's address."""

import io
import socket
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from app.courses.models import Material
from app.sence.models import Exchange
from tests.courses.helpers import PDF, lesson_with
from tests.factories import login, make_course, make_user
from tests.security.app_process import AppProcess

ROOT = Path(__file__).resolve().parents[2]
TWENTY_MB = 20 * 1024 * 1024


# --- 1. Request bodies ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(app):
    server = AppProcess({"ENV": "testing", "SECRET_KEY": "t", "RATELIMIT_ENABLED": False,
                         "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         "UPLOAD_DIR": app.config["UPLOAD_DIR"], "SENCE_JOURNAL_DIR": app.config["SENCE_JOURNAL_DIR"]})
    yield server
    server.stop()


def _announce_and_read(port: int, path: str, length: int) -> tuple[str, float]:
    """Send headers for a `length`-byte form and only 64 KB of it; return the status line and how long it took.

    An answer before the rest of the body is sent proves the server refused it unread.
    """
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
                      f"\r\nContent-Length: {length}\r\n\r\n").encode() + b"a=" + b"x" * 65_534)
        status = conn.makefile("rb").readline().decode().strip()
    return status, time.monotonic() - started


@pytest.mark.parametrize("path", ["/s/r", "/ingresar"])
def test_a_20_mb_form_is_refused_with_413_before_it_is_read(live, path):
    status, seconds = _announce_and_read(live.port, path, TWENTY_MB)
    assert status.split()[1] == "413", status
    assert seconds < 3


@pytest.mark.parametrize("path", ["/s/r", "/ingresar"])
def test_a_20_mb_form_costs_little_time_and_memory(live, path):
    before = live.peak_rss_kb
    started = time.monotonic()
    status, _ = _announce_and_read(live.port, path, TWENTY_MB)
    assert status.split()[1] == "413"
    assert time.monotonic() - started < 3
    assert live.peak_rss_kb - before < 20 * 1024  # KB: the body was never held in memory


def test_a_refused_sence_answer_changes_nothing_and_says_why(client, db):
    response = client.post("/s/r", data={"IdSesionAlumno": "x", "pad": "x" * 70_000})
    assert response.status_code == 413
    assert "supera el tamaño máximo" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Exchange)).scalar_one() == 0


def test_other_forms_take_up_to_two_megabytes(client, db):
    admin = make_user("admin")
    login(client, admin)
    course = make_course()
    small = client.post(f"/admin/cursos/{course.id}/grupos", data={"group-name": "Grupo A", "pad": "x" * 100_000})
    assert small.status_code == 302
    big = client.post(f"/admin/cursos/{course.id}/grupos", data={"group-name": "B", "pad": "x" * 2_200_000})
    assert big.status_code == 413


def test_uploads_still_take_large_files(client, db, app):
    instructor = make_user("instructor")
    course = make_course(instructors=[instructor])
    lesson = lesson_with(course, "Con archivo")
    login(client, instructor)
    big_pdf = PDF + b"\n%" + b"0" * (3 * 1024 * 1024)  # 3 MB: over the form limit, under the upload limit
    response = client.post(f"/cursos/{course.id}/lecciones/{lesson.id}/material",
                           data={"file": (io.BytesIO(big_pdf), "guia.pdf")}, content_type="multipart/form-data")
    assert response.status_code in (200, 302, 303)
    assert db.session.execute(select(Material.size)).scalar_one() == len(big_pdf)


# --- 5. Ids beyond the database's integer ---------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/cursos/99999999999999999999", "/cursos/2147483648", "/cursos/1/lecciones/99999999999999999999",
    "/cursos/1/material/99999999999999999999", "/sence/intentos/99999999999999999999",
    "/admin/usuarios/99999999999999999999", "/admin/correos/99999999999999999999",
    "/reportes/cursos/99999999999999999999/asistencia",
])
def test_an_id_too_big_for_the_database_is_not_found(client, db, url):
    login(client, make_user("admin"))
    response = client.get(url)
    assert response.status_code == 404
    assert "Página no encontrada" in response.get_data(as_text=True)


# --- 6. Caching and HSTS --------------------------------------------------------------------------


def test_signed_in_pages_and_exports_are_not_stored_by_caches(client, db):
    admin = make_user("admin")
    course = make_course()
    assert "no-store" not in client.get("/ingresar").headers.get("Cache-Control", "")
    login(client, admin)
    for url in ("/", f"/reportes/cursos/{course.id}/asistencia.csv", "/admin/usuarios"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url


def test_strict_transport_security_only_behind_https(app, db):
    overrides = {"ENV": "testing", "SECRET_KEY": "t", "RATELIMIT_ENABLED": False,
                 "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
    https = create_app({**overrides, "PUBLIC_BASE_URL": "https://pizarra.otec.cl"}).test_client()
    assert https.get("/ingresar").headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = create_app({**overrides, "PUBLIC_BASE_URL": "http://localhost"}).test_client()
    assert "Strict-Transport-Security" not in plain.get("/ingresar").headers


# --- 9. The demo's address ------------------------------------------------------------------------


def _demo_commands(*overrides: str) -> str:
    return subprocess.run(["make", "-n", "demo", *overrides], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def test_the_demo_listens_on_this_machine_only_unless_host_says_otherwise():
    assert "run --host 127.0.0.1 --port 5000" in _demo_commands()
    assert "0.0.0.0" not in _demo_commands()  # noqa: S104 (asserting it is absent)
    assert "run --host 0.0.0.0 --port 5000" in _demo_commands("HOST=0.0.0.0")

