"""Every route × every kind of visitor → the expected answer, generated from the app's URL map.

A route added without a rule here fails `test_every_route_has_an_access_rule`: decide who may use it first.
"""

from dataclasses import dataclass

import pytest

from app import create_app
from app.certificates.models import Certificate
from app.courses.models import Lesson, Material
from app.extensions import db
from app.notify.models import OutboxMessage
from app.privacy import service as privacy_service
from tests.evaluations.helpers import make_evaluation, take
from tests.factories import enroll, login, make_course, make_group, make_user, open_session
from tests.sence.builders import make_otec

ROLES = ("anonymous", "participant", "outsider", "instructor", "other_instructor", "admin")

# Who may use each endpoint. "course" is the course the participant is enrolled in and the instructor teaches;
# the outsider and the other instructor belong to another course.
PUBLIC = set(ROLES)
SIGNED_IN = set(ROLES) - {"anonymous"}
ADMIN = {"admin"}
COURSE_VIEW = {"admin", "instructor", "participant"}
COURSE_EDIT = {"admin", "instructor"}
COURSE_PARTICIPANT = {"participant"}

RULES = {
    "health.healthz": PUBLIC, "static": PUBLIC, "auth.login": PUBLIC,
    "sence.retoma": PUBLIC, "sence.url_error": PUBLIC,
    "auth.forgot": PUBLIC, "auth.reset": PUBLIC,  # a reset link works signed out; its token is the credential
    "auth.logout": SIGNED_IN, "auth.password": SIGNED_IN, "courses.dashboard": SIGNED_IN,
    "courses.logout_confirm": SIGNED_IN, "account.account": SIGNED_IN,
    "courses.course": COURSE_VIEW, "courses.lesson": COURSE_VIEW, "courses.material": COURSE_VIEW,
    "sence.controls": COURSE_VIEW,
    "courses.lesson_completed": COURSE_PARTICIPANT, "sence.start_login": COURSE_PARTICIPANT,
    "sence.start_logout": COURSE_PARTICIPANT, "sence.result": COURSE_PARTICIPANT,
    "courses.lessons_edit": COURSE_EDIT, "courses.lesson_edit": COURSE_EDIT, "courses.lesson_delete": COURSE_EDIT,
    "courses.lesson_move": COURSE_EDIT, "courses.lesson_preview": COURSE_EDIT, "courses.material_upload": COURSE_EDIT,
    "courses.material_delete": COURSE_EDIT, "courses.material_move": COURSE_EDIT, "courses.material_title": COURSE_EDIT,
    "reports.attendance": COURSE_EDIT, "reports.attendance_export": COURSE_EDIT,
    "reports.participant": COURSE_EDIT, "reports.sessions_export": COURSE_EDIT,
    "evaluations.show": COURSE_VIEW,
    **{endpoint: COURSE_PARTICIPANT for endpoint in (
        "evaluations.start", "evaluations.attempt", "evaluations.save", "evaluations.submit", "evaluations.my_grades")},
    **{endpoint: COURSE_EDIT for endpoint in (
        "evaluations.new", "evaluations.edit", "evaluations.delete", "evaluations.question",
        "evaluations.copy_questions", "evaluations.question_action", "evaluations.gradebook_page",
        "evaluations.gradebook_export", "evaluations.rule", "evaluations.participant", "evaluations.review")},
    "certificates.verify_form": PUBLIC, "certificates.verify": PUBLIC, "certificates.my_pdf": COURSE_VIEW,
    **{endpoint: ADMIN for endpoint in (
        "certificates.pdf", "certificates.course_zip", "certificates.issue", "certificates.revoke",
        "certificates.reissue", "certificates.signer", "certificates.signature_image", "closeout.page",
        "closeout.step", "closeout.evidence")},
    "reports.course_live": COURSE_EDIT, "reports.course_progress": COURSE_EDIT,
    **{endpoint: ADMIN for endpoint in (
        "admin.courses", "admin.course_new", "admin.course_edit", "admin.enrollments", "admin.enrollment_group",
        "admin.enrollment_remove", "admin.group_new", "admin.import_csv", "admin.users", "admin.user_new",
        "admin.user_edit", "notify.outbox", "notify.message", "notify.retry", "reports.live", "sence.otecs",
        "sence.otec", "sence.token_add", "sence.token_revoke", "sence.course_settings", "sence.course_log",
        "admin.user_end_sessions", "admin.user_force_reset",
        "sic.course_settings", "sic.module_add", "sic.module_delete", "sic.mapping", "sic.send_now", "sic.preview",
        "sic.course_log", "sic.history")},
    "privacy.notice": PUBLIC, "privacy.acknowledge": SIGNED_IN, "privacy.my_data": SIGNED_IN,
    "privacy.my_data_zip": SIGNED_IN, "privacy.request_new": SIGNED_IN, "privacy.my_request": COURSE_PARTICIPANT,
    **{endpoint: ADMIN for endpoint in (
        "privacy.requests", "privacy.request_detail", "privacy.request_note", "privacy.request_answer",
        "privacy.request_block", "privacy.request_unblock", "privacy.request_suppress", "privacy.request_bundle",
        "privacy.settings", "privacy.trail", "privacy.trail_export")},
}
# The timer poll answers htmx only (a plain GET is sent to the course page); it is checked in tests/courses.
HTMX_ONLY = {"courses.timer"}
# sence.result shows a participant their own attempt; anybody else's attempt is "not found".
DENIED_AS_NOT_FOUND = {"sence.result", "privacy.my_request"}  # a privacy request: only its own filer


def _routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_an_access_rule(app):
    endpoints = {rule.endpoint for rule, _ in _routes(app)}
    missing = endpoints - set(RULES) - HTMX_ONLY
    assert not missing, f"routes without an access rule in {__file__}: {sorted(missing)}"


@dataclass
class World:
    users: dict
    ids: dict


def _build_world() -> World:
    users = {role: make_user(role) for role in ("admin",)}
    users["instructor"], users["other_instructor"] = make_user("instructor"), make_user("instructor")
    users["participant"], users["outsider"] = make_user(), make_user()
    course = make_course(instructors=[users["instructor"]], sence={"login_required": False, "otec_id": make_otec().id})
    other = make_course(instructors=[users["other_instructor"]])
    enrollment = enroll(course, users["participant"], make_group(course))
    enroll(other, users["outsider"])
    lesson = Lesson(course_id=course.id, title="Lección", body="Hola", position=1)
    db.session.add(lesson)
    db.session.flush()
    material = Material(lesson_id=lesson.id, kind="pdf", original_name="a.pdf", stored_name="matrix-a.pdf",
                        content_type="application/pdf", size=4, position=1)
    message = OutboxMessage(kind="alert", to_addrs="otec@example.cl", subject="s", body="b", course_id=course.id)
    db.session.add_all([lesson, material, message])
    db.session.commit()
    privacy_request = privacy_service.file_request(users["participant"], "access", "")
    sence_session = open_session(users["participant"], course)
    otec = course.sence.otec
    evaluation = make_evaluation(course)
    evaluation_attempt = take(evaluation, users["participant"], submitted=False)
    certificate = Certificate(folio="K7QM-3XPA-9RTD-W2HF", course_id=course.id, user_id=users["participant"].id,
                              participant_name="Participante", course_title=course.title, otec_name=otec.name,
                              otec_rut=otec.rut)
    db.session.add(certificate)
    db.session.commit()
    ids = {"course_id": course.id, "lesson_id": lesson.id, "material_id": material.id,
           "enrollment_id": enrollment.id, "user_id": users["participant"].id, "otec_id": otec.id,
           "token_id": otec.tokens[0].id, "message_id": message.id, "attempt_id": sence_session.login_attempt_id,
           "fmt": "csv", "filename": "css/app.css", "request_id": privacy_request.id, "token": "not-a-token",
           "evaluation_id": evaluation.id, "question_id": evaluation.questions[0].id,
           "evaluation_attempt_id": evaluation_attempt.id, "action": "mover",
           "cert_id": certificate.id, "folio": certificate.folio, "step": "otec_dj", "module_id": 0}
    return World(users, ids)


_URL_MAP_APP = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", "RATELIMIT_ENABLED": False})
CASES = [(rule.endpoint, rule.rule, method, role) for rule, method in _routes(_URL_MAP_APP)
         if rule.endpoint not in HTMX_ONLY for role in ROLES]


@pytest.mark.parametrize("endpoint, rule, method, role", CASES,
                         ids=[f"{m} {r} as {who}" for _, r, m, who in CASES])
def test_route_answers_each_visitor_as_its_rule_says(app, client, endpoint, rule, method, role):
    world = _build_world()
    if role != "anonymous":
        login(client, world.users[role])
    url = app.url_map.bind("localhost").build(endpoint, {k: v for k, v in world.ids.items()
                                                          if k in _arguments(app, rule)})
    response = client.open(url, method=method, data={})
    status, location = response.status_code, response.headers.get("Location", "")
    assert status < 500, f"{method} {url} as {role}: {status}"
    if role in RULES.get(endpoint, set()) and endpoint == "auth.logout":
        assert status in (302, 303), f"POST /salir as {role}: {status}"  # signing out ends on the sign-in page
    elif role in RULES.get(endpoint, set()):
        assert status != 403 and "/ingresar" not in location, f"{method} {url} as {role} was refused ({status})"
    elif role == "anonymous":
        assert status == 302 and "/ingresar" in location, f"{method} {url} as anonymous: {status} {location}"
    elif endpoint in DENIED_AS_NOT_FOUND:
        assert status == 404, f"{method} {url} as {role}: {status}"
    else:
        assert status == 403, f"{method} {url} as {role}: {status}"


def _arguments(app, rule_text: str) -> set[str]:
    return next(r.arguments for r in app.url_map.iter_rules() if r.rule == rule_text)
