"""Demo data (README): idempotent, so `make demo` can run it on every start."""

from datetime import timedelta
from importlib import import_module

from sqlalchemy import select

from app.admin import service as admin_service
from app.auth.models import User
from app.courses.models import Course
from app.extensions import db
from app.timeutil import today_in_chile

DEMO_PASSWORD = "demo1234"  # noqa: S105 (documented demo password)
DEMO_COURSE = "Excel intermedio"
ACCOUNTS = (
    {"role": "admin", "full_name": "Administración Demo", "email": "admin@demo.cl", "run": None},
    {"role": "instructor", "full_name": "Irene Instructora", "email": "instructor@demo.cl", "run": None},
    {"role": "participant", "full_name": "Ana Pérez", "email": "ana@demo.cl", "run": "11111111-1",
     "phone": "+56 2 2345 6789", "mobile": "+56 9 8765 4321"},
    {"role": "participant", "full_name": "Benito Soto", "email": "benito@demo.cl", "run": "22222222-2",
     "phone": "+56 2 2345 0000", "mobile": "+56 9 1234 5678"},
)


def _account(spec: dict) -> User:
    user = admin_service.user_by_email(spec["email"])
    if user is None:
        user = admin_service.create_user(password=DEMO_PASSWORD, **spec)
    return user


def _course(instructor: User) -> Course:
    course = db.session.execute(select(Course).where(Course.title == DEMO_COURSE)).scalar_one_or_none()
    if course is None:
        today = today_in_chile()
        course = admin_service.create_course(
            {"title": DEMO_COURSE, "hours": 24, "start_date": today - timedelta(days=7),
             "end_date": today + timedelta(days=60),
             "description": "Tablas dinámicas, funciones de búsqueda y gráficos para el trabajo diario."},
            [instructor],
        )
    return course


def seed_demo() -> Course:
    users = {spec["email"]: _account(spec) for spec in ACCOUNTS}
    course = _course(users["instructor@demo.cl"])
    for email in ("ana@demo.cl", "benito@demo.cl"):
        admin_service.enroll(course, users[email])
    for name in SEED_MODULES:
        import_module(name).seed(course)
    db.session.commit()
    return course


# Each feature's own idempotent demo step: a module with `seed(course)`, called with the demo course.
SEED_MODULES: tuple[str, ...] = ("app.sence.demo", "app.notify.demo", "app.courses.demo", "app.evaluations.demo",
                                 "app.certificates.demo", "app.sic.demo")
