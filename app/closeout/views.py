"""Cierre del curso (admins): the DJ checklist, the deadlines, the OTEC's steps, certificates, the evidence ZIP."""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.access import admin_required
from app.certificates import service as certificates
from app.certificates.forms import RevokeForm
from app.closeout import bundle, service
from app.closeout import deadlines as dl
from app.closeout.models import STEPS
from app.courses.access import course_or_404
from app.privacy.trail import enrolled, record_access
from app.timeutil import today_in_chile, utcnow

bp = Blueprint("closeout", __name__, url_prefix="/cierre")


@bp.get("/cursos/<int:course_id>")
@admin_required
def page(course_id: int):
    course = course_or_404(course_id)
    today = today_in_chile()
    certs = certificates.of_course(course.id)
    return render_template(
        "closeout/page.html", course=course, today=today, checklist=service.checklist(course),
        deadlines=service.course_deadlines(course, today), closeout=service.closeout_of(course), steps=STEPS,
        certificates=certs, valid_by_user={c.user_id: c for c in certs if c.is_valid},
        crosses_year=course.end_date is not None and dl.crosses_year(course.start_date, course.end_date),
        otec=course.sence.otec if course.sence is not None else None, revoke_form=RevokeForm(),
    )


@bp.post("/cursos/<int:course_id>/pasos/<step>")
@admin_required
def step(course_id: int, step: str):
    course = course_or_404(course_id)
    done = request.form.get("done") == "1"
    try:
        service.set_step(course, step, done, current_user)
    except service.RuleError as err:
        flash(str(err), "error")
    return redirect(url_for("closeout.page", course_id=course.id) + "#pasos", 303)


@bp.get("/cursos/<int:course_id>/evidencia.zip")
@admin_required
def evidence(course_id: int):
    course = course_or_404(course_id)
    now = utcnow()
    response = Response(bundle.build(course, now), mimetype="application/zip")
    record_access("closeout_bundle", course_id=course.id, people=enrolled(course.id))
    response.headers["Content-Disposition"] = f'attachment; filename="{bundle.file_name(course, now)}"'
    return response
