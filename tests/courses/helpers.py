"""Course content for player tests: lessons with files, built through the real service (stored like uploads)."""

import io
import zipfile
from pathlib import Path

from werkzeug.datastructures import FileStorage

from app.courses import service
from app.courses.models import Lesson
from tests.factories import enroll, login, make_course, make_user

DEMO_FILES = Path(__file__).resolve().parents[2] / "app" / "courses" / "demo_files"
PDF = (DEMO_FILES / "guia-funciones-busqueda.pdf").read_bytes()
WEBM = (DEMO_FILES / "tablas-dinamicas.webm").read_bytes()
PNG = bytes.fromhex("89504E470D0A1A0A0000000D49484452000000010000000108060000001F15C4890000000D49444154789C63F8CF"
                    "C0F01F0005000201FFA6F1F1F50000000049454E44AE426082")
OLE = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504)
SECRET = "Contenido secreto de la lección"


def zip_bytes(**members: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in (members or {"leeme.txt": "hola"}).items():
            archive.writestr(name, text)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    return zip_bytes(**{"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})


def upload(lesson: Lesson, name: str, content: bytes):
    return service.add_material(lesson, FileStorage(io.BytesIO(content), filename=name))


def lesson_with(course, title: str = "Introducción", body: str = SECRET, files=()) -> Lesson:
    lesson = service.add_lesson(course, title, body)
    for name, content in files:
        upload(lesson, name, content)
    return lesson


def gated_course(**fields):
    """A course that requires SENCE login (the factories' default settings) with one lesson holding a PDF."""
    course = make_course(**fields)
    lesson = lesson_with(course, files=[("Guía 1.pdf", PDF)])
    return course, lesson


def participant_signed_in(client, course, **fields):
    user = make_user("participant", **fields)
    enroll(course, user)
    login(client, user)
    return user
