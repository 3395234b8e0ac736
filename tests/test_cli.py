from sqlalchemy import func, select

from app.auth.models import User
from app.courses.models import Course, Enrollment
from app.extensions import db


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def test_seed_demo_creates_the_documented_accounts_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    assert {"admin@demo.cl", "instructor@demo.cl", "ana@demo.cl", "benito@demo.cl"} <= set(users)
    assert users["ana@demo.cl"].run == "11111111-1" and users["benito@demo.cl"].run == "22222222-2"
    assert all(u.check_password("demo1234") for u in users.values())
    course = db.session.execute(select(Course).where(Course.title == "Excel intermedio")).scalar_one()
    assert [u.email for u in course.instructors] == ["instructor@demo.cl"]
    assert len(course.enrollments) == 2
    # «Excel intermedio», the finished «Atención al cliente» (certificates demo), each with Ana and Benito,
    # and the line-1 SIC course with Ana (app/sic/demo.py)
    assert _count(Course) == 3 and _count(Enrollment) == 5


def test_create_admin_takes_options(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "--email", "jefa@otec.cl", "--name", "Jefa",
                                                "--password", "clave-jefa-1"])
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.email == "jefa@otec.cl")).scalar_one()
    assert user.role == "admin" and user.check_password("clave-jefa-1")


def test_create_admin_refuses_a_short_password_clearly(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "--email", "x@otec.cl", "--name", "X",
                                                "--password", "corta"])
    assert result.exit_code != 0
    assert "al menos 8 caracteres" in result.output
