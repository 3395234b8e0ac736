"""`flask seed-demo` leaves «Excel intermedio» ready for the simulator, and running it twice changes nothing."""

from sqlalchemy import func, select

from app.demo import seed_demo
from app.sence import service
from app.sence.demo import OTEC_NAME
from app.sence.models import Otec, SenceToken


def test_the_demo_course_is_ready_for_the_simulator(db):
    course = seed_demo()
    seed_demo()

    assert db.session.execute(select(func.count()).select_from(Otec)).scalar_one() == 1
    assert db.session.execute(select(func.count()).select_from(SenceToken)).scalar_one() == 1
    settings = course.sence
    assert settings.otec.name == OTEC_NAME
    assert (settings.environment, settings.linea, len(settings.cod_sence)) == ("simulator", 3, 10)
    assert 7 <= len(settings.codigo_curso) <= 50
    assert service.course_problems(course) == []
