"""The evidence ZIP: every file an audit asks for, no token, and a manifest whose hashes match the files."""

import csv
import hashlib
import io
import json
import zipfile

from openpyxl import load_workbook

from app.certificates import service as certificates
from app.extensions import db
from app.sence.models import Attempt, Exchange
from tests.closeout.helpers import finished_course, graded, participant
from tests.factories import login, make_user
from tests.sence.builders import TOKEN


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def _course_with_history():
    course = finished_course(ended_days_ago=5)
    exam = graded(course)
    ana = participant(course, "Ana Pérez", run="12345678-5", evaluation=exam, correct=9)
    participant(course, "Benito Soto", sessions=0)
    attempt = db.session.query(Attempt).filter_by(user_id=ana.id).first()
    db.session.add(Exchange(direction="out", endpoint="IniciarSesion", attempt_id=attempt.id,
                            fields={"RunAlumno": "12345678-5", "IdSesionAlumno": attempt.id_sesion_alumno,
                                    "Token": TOKEN}))
    db.session.add(Exchange(direction="in", endpoint="IniciarSesion", attempt_id=attempt.id, outcome="accepted",
                            fields={"IdSesionSence": "S-1", "CodSence": "1237981234"}))
    db.session.commit()
    cert = certificates.issue(course, ana, None)
    return course, cert


def _download(client, course):
    login(client, make_user("admin"))
    response = client.get(f"/cierre/cursos/{course.id}/evidencia.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert f"evidencia-curso{course.id}-" in response.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_the_bundle_holds_attendance_exchange_log_grades_and_certificates(client):
    course, cert = _course_with_history()
    bundle = _download(client, course)
    names = set(bundle.namelist())
    assert names == {"asistencia.csv", "asistencia.xlsx", "sesiones.csv", "intercambios-sence.csv",
                     "notas-y-estados.csv", "evaluaciones.csv", "certificados.csv",
                     f"certificados/certificado-{cert.folio}.pdf", "manifest.json", "SHA256SUMS"}
    attendance = bundle.read("asistencia.csv").decode("utf-8-sig")
    assert "Ana Pérez" in attendance and "Benito Soto" in attendance
    assert load_workbook(io.BytesIO(bundle.read("asistencia.xlsx"))).sheetnames == ["Asistencia", "Sesiones"]
    grades = {row[0]: row for row in _csv_rows(bundle.read("notas-y-estados.csv"))[1:]}
    assert grades["Ana Pérez"][2:4] == ["Aprobado", "6,3"] and grades["Benito Soto"][2] == "Reprobado"
    [exam] = [row for row in _csv_rows(bundle.read("evaluaciones.csv"))[1:] if row[0] == "Ana Pérez"]
    assert exam[2] == "Prueba final" and exam[4] == "90,00" and exam[5] == "6,3"
    folios = _csv_rows(bundle.read("certificados.csv"))
    assert folios[1][:4] == [cert.folio, "Ana Pérez", "12345678-5", "Válido"]
    assert bundle.read(f"certificados/certificado-{cert.folio}.pdf").startswith(b"%PDF")


def test_the_exchange_log_is_there_without_the_token(client):
    course, _ = _course_with_history()
    bundle = _download(client, course)
    log = bundle.read("intercambios-sence.csv").decode("utf-8-sig")
    assert "IniciarSesion" in log and "IdSesionAlumno" in log and "S-1" in log and "Recibido de SENCE" in log
    everything = b"".join(bundle.read(name) for name in bundle.namelist())
    assert TOKEN.encode() not in everything and TOKEN.lower().encode() not in everything
    assert b'"Token"' not in everything


def test_the_manifest_hashes_every_file_and_says_when_it_was_generated(client):
    course, _ = _course_with_history()
    bundle = _download(client, course)
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["course"]["id"] == course.id and manifest["generated_at"].startswith("20")
    listed = {entry["file"]: entry for entry in manifest["files"]}
    assert set(listed) == set(bundle.namelist()) - {"manifest.json", "SHA256SUMS"}
    for name, entry in listed.items():
        data = bundle.read(name)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    sums = bundle.read("SHA256SUMS").decode().splitlines()
    assert sorted(sums) == sorted(f"{e['sha256']}  {e['file']}" for e in manifest["files"])
