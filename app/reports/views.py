"""Attendance per course (admins and the course's instructors), exports, and the admins' live view."""

from flask import Blueprint, Response, abort, render_template, request
from flask_login import login_required

from app.auth.access import admin_required
from app.auth.models import User
from app.courses import progress
from app.courses.access import editable_course_or_abort, enrollment_of
from app.extensions import db
from app.formatting import cl_number
from app.privacy.trail import record_access
from app.reports import exports, service
from app.timeutil import format_chile, utcnow

bp = Blueprint("reports", __name__, url_prefix="/reportes")

MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


bp.add_app_template_filter(cl_number, "cl_number")


@bp.route("/cursos/<int:course_id>/asistencia")
@login_required
def attendance(course_id: int):
    course = editable_course_or_abort(course_id)
    report = service.attendance(course)
    return render_template("reports/attendance.html", course=course, report=report, chart=service.chart(report),
                           environments=service.ENVIRONMENT_LABELS)


def _download(content: bytes, fmt: str, name: str, course_id: int) -> Response:
    stamp = format_chile(utcnow(), "%Y%m%d-%H%M")
    response = Response(content, content_type=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-curso{course_id}-{stamp}.{fmt}"'
    return response


@bp.route("/cursos/<int:course_id>/asistencia.<fmt>")
@login_required
def attendance_export(course_id: int, fmt: str):
    if fmt not in MIMETYPES:
        abort(404)
    course = editable_course_or_abort(course_id)
    report = service.attendance(course)
    record_access("attendance_export", course_id=course.id, people=len(report.rows))
    if fmt == "csv":
        return _download(exports.attendance_csv(report), fmt, "asistencia", course.id)
    lines = service.session_lines(course.id, report.generated_at, environment=report.environment)
    return _download(exports.attendance_xlsx(report, lines), fmt, "asistencia", course.id)


@bp.route("/cursos/<int:course_id>/sesiones.csv")
@login_required
def sessions_export(course_id: int):
    course = editable_course_or_abort(course_id)
    report = service.attendance(course)
    lines = service.session_lines(course.id, report.generated_at, environment=report.environment)
    record_access("sessions_export", course_id=course.id, people=len({line.sence_session.user_id for line in lines}))
    return _download(exports.sessions_csv(report, lines), "csv", "sesiones", course.id)


@bp.route("/cursos/<int:course_id>/participantes/<int:user_id>")
@login_required
def participant(course_id: int, user_id: int):
    course = editable_course_or_abort(course_id)
    user = db.session.get(User, user_id)
    if user is None or enrollment_of(user, course.id) is None:
        abort(404)
    record_access("participant_detail", course_id=course.id, subject_user_id=user.id)
    now = utcnow()
    return render_template("reports/participant.html", course=course, user=user, now=now,
                           lessons=progress.lessons_of(course, user),
                           sessions=service.session_lines(course.id, now, user_id=user.id),
                           failures=service.failed_attempt_lines(course.id, user.id, now),
                           environments=service.ENVIRONMENT_LABELS)


@bp.route("/en-vivo")
@admin_required
def live():
    snapshot = service.live()
    template = "reports/_live.html" if request.headers.get("HX-Request") else "reports/live.html"
    return render_template(template, snapshot=snapshot, environments=service.ENVIRONMENT_LABELS)


@bp.route("/cursos/<int:course_id>/en-vivo")
@login_required
def course_live(course_id: int):
    """The live view of one course: its admins and its own instructors."""
    course = editable_course_or_abort(course_id)
    snapshot = service.live(course_id=course.id)
    template = "reports/_live.html" if request.headers.get("HX-Request") else "reports/live.html"
    return render_template(template, snapshot=snapshot, environments=service.ENVIRONMENT_LABELS, course=course)


@bp.route("/cursos/<int:course_id>/avance")
@login_required
def course_progress(course_id: int):
    """Lessons completed per participant, for the course's admins and instructors."""
    course = editable_course_or_abort(course_id)
    return render_template("reports/progress.html", course=course, rows=progress.for_course(course))
