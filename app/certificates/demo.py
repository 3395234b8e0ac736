"""Demo: a finished course, «Atención al cliente», with Ana's certificate to verify (idempotent).

It ended ten days ago, so its Cierre page shows the DJ checklist and the deadlines running; Ana has one SENCE
session that counts (so the status service approves her) and Benito none (so he is on the "no califica" list).
"""

from datetime import timedelta

from sqlalchemy import select

from app.admin import service as admin_service
from app.auth.models import User
from app.certificates import service
from app.certificates.models import CertificateSigner
from app.courses.models import Course
from app.extensions import db
from app.sence.models import Attempt, SenceSession
from app.sence.protocol import new_id_sesion_alumno
from app.timeutil import today_in_chile, utcnow

FINISHED_COURSE = "Atención al cliente"
SIGNER = ("Marta Rojas Fuentes", "Directora académica")


def _finished_course(demo_course: Course) -> Course:
    course = db.session.execute(select(Course).where(Course.title == FINISHED_COURSE)).scalar_one_or_none()
    if course is None:
        today = today_in_chile()
        course = admin_service.create_course(
            {"title": FINISHED_COURSE, "hours": 16, "start_date": today - timedelta(days=40),
             "end_date": today - timedelta(days=10),
             "description": "Comunicación efectiva, manejo de reclamos y seguimiento de casos."},
            list(demo_course.instructors))
        settings, demo = course.sence, demo_course.sence
        settings.otec_id, settings.linea, settings.environment = demo.otec_id, demo.linea, demo.environment
        settings.cod_sence, settings.codigo_curso = "1238000002", "ATC-2025-0002"
        settings.alert_emails = demo.alert_emails
        db.session.flush()
    return course


def answered_session(course: Course, user: User, started, closed_at=None) -> SenceSession:
    """A SENCE session as an answered login leaves it, started at `started`: closed at `closed_at`, else open.
    (Also the cluster test's sessions with a reminder due or past their limit, bench/cluster.py.)"""
    settings = course.sence
    login = Attempt(kind="login", id_sesion_alumno=new_id_sesion_alumno(), user_id=user.id, course_id=course.id,
                    environment=settings.environment, run_alumno=user.run, cod_sence=settings.cod_sence,
                    codigo_curso=settings.codigo_curso, linea=settings.linea, status="succeeded",
                    created_at=started - timedelta(minutes=1), answered_at=started)
    db.session.add(login)
    db.session.flush()
    session = SenceSession(user_id=user.id, course_id=course.id, login_attempt_id=login.id,
                           id_sesion_alumno=login.id_sesion_alumno, id_sesion_sence=f"DEMO{login.id:08d}",
                           environment=login.environment, started_at=started,
                           expires_at=started + timedelta(minutes=settings.session_limit_minutes),
                           status="closed" if closed_at else "open", closed_at=closed_at)
    db.session.add(session)
    db.session.flush()
    login.session_id = session.id
    return session


def counted_session(course: Course, user: User) -> None:
    """One session opened and closed through SENCE within its limit, during the course."""
    started = utcnow().replace(second=0, microsecond=0) - timedelta(days=20, hours=3)
    answered_session(course, user, started, started + timedelta(hours=2))


def seed(demo_course: Course) -> None:
    if demo_course.sence is None or demo_course.sence.otec_id is None:
        return
    if db.session.get(CertificateSigner, demo_course.sence.otec_id) is None:
        db.session.add(CertificateSigner(otec_id=demo_course.sence.otec_id, signer_name=SIGNER[0],
                                         signer_title=SIGNER[1]))
    course = _finished_course(demo_course)
    ana = admin_service.user_by_email("ana@demo.cl")
    benito = admin_service.user_by_email("benito@demo.cl")
    if ana is None or benito is None:
        return
    admin_service.enroll(course, ana)
    admin_service.enroll(course, benito)
    has_session = db.session.execute(
        select(SenceSession.id).where(SenceSession.course_id == course.id, SenceSession.user_id == ana.id)
    ).first()
    if has_session is None:
        counted_session(course, ana)
        db.session.commit()
    if service.valid_certificate(course.id, ana.id) is None:
        service.issue(course, ana, None)
