"""SIC test data, and the simulator served over real HTTP on 127.0.0.1 (as tests/browser/conftest.py serves it)."""

import threading
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from app.courses.models import Lesson
from app.extensions import db
from app.sence.models import Otec
from app.sic import service
from tests.factories import enroll, make_course, make_user
from tests.sence.builders import make_otec


@dataclass
class SicSimulator:
    url: str
    app: object

    def force(self, code: str, rut: str = "") -> None:
        answer = requests.post(f"{self.url}/control", data={"codigo": code, "rut": rut},
                               headers={"Accept": "application/json"}, timeout=10)
        assert answer.status_code == 200, answer.text

    def history(self, **params) -> list:
        return requests.get(f"{self.url}/historialEnvios", params=params, timeout=10).json()


@pytest.fixture(scope="session")
def _sic_server():
    from app.simulator import create_simulator_app

    simulator_app = create_simulator_app({"TESTING": True})
    server = make_server("127.0.0.1", 0, simulator_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SicSimulator(f"http://127.0.0.1:{server.server_port}/sic", simulator_app)
    server.shutdown()


@pytest.fixture
def sic(app, _sic_server):
    """The simulator, emptied, and Pizarra pointed at it without waits between retries."""
    requests.post(f"{_sic_server.url}/reiniciar", timeout=10)
    _sic_server.app.config["SIMULATOR_SIC_REGISTRY"] = None
    saved = {key: app.config.get(key) for key in ("SIC_SIMULATOR_URL", "SIC_RETRY_WAIT_SECONDS", "SIC_RETRIES")}
    app.config.update(SIC_SIMULATOR_URL=_sic_server.url, SIC_RETRY_WAIT_SECONDS=0, SIC_RETRIES=3)
    yield _sic_server
    app.config.update(saved)


def sic_course(lessons: int = 4, modules: tuple[str, ...] = ("M1", "M2"), alert: str = "alertas@otec.cl",
               **course_fields):
    """A line-1 course with SIC on, its lessons split evenly between `modules`, and no participant yet."""
    otec = db.session.execute(select(Otec)).scalars().first() or make_otec()
    course = make_course(sence={"otec_id": otec.id, "linea": 1, "cod_sence": "1237981234",
                                "codigo_curso": "SIC-0001", "environment": "simulator",
                                "alert_emails": alert}, **course_fields)
    for position in range(1, lessons + 1):
        db.session.add(Lesson(course_id=course.id, title=f"Lección {position}", body="Texto", position=position))
    db.session.commit()
    service.save_settings(course, {"enabled": True, "codigo_oferta": "CAP-21-01-13-9999-1",
                                   "codigo_grupo": "CAP-21-01-13-9999-1-G1", "environment": "simulator"})
    created = [service.add_module(course, codigo) for codigo in modules]
    per_module = max(1, lessons // max(1, len(created)))
    mapping = {lesson.id: created[min(index // per_module, len(created) - 1)].id
               for index, lesson in enumerate(course.lessons)}
    service.save_mapping(course, mapping, {})
    return course


def participant(course, **fields):
    user = make_user("participant", **fields)
    enroll(course, user)
    return user
