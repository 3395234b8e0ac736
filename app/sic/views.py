"""SIC pages for OTEC staff (settings, modules, send now, dry run, log, SENCE's history) and the action recorder."""

import json
import logging
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from app.auth.access import admin_required
from app.courses.access import COURSE_LOAD_OPTIONS, COURSE_PARTS, CoursePart, course_or_404, loaded_course
from app.courses.models import Course
from app.extensions import db
from app.privacy.trail import record_access
from app.sence.tokens import TokenKeyError
from app.sic import protocol, service
from app.sic.forms import ENVIRONMENT_CHOICES, ModuleForm, SicSettingsForm
from app.sic.models import CourseSic
from app.timeutil import utcnow

bp = Blueprint("sic", __name__)
log = logging.getLogger(__name__)
COURSE_LOAD_OPTIONS.append(lambda: joinedload(Course.sic))  # the recorder then knows without a query


@dataclass(frozen=True)
class CourseSicRow:
    """A course's SIC settings as the participant's read-only pages read them with the course (`course.sic`)."""

    course_id: int
    enabled: bool
    codigo_oferta: str
    codigo_grupo: str
    environment: str
    last_sent_on: date | None


COURSE_PARTS["sic"] = lambda: CoursePart(CourseSic, CourseSicRow)

# The participant's clicks that count as dedication (instructivo p. 46). The timer poll (courses.timer) is not
# one: it is the hottest path and a poll is not a click. Evaluations' pages count too (their own blueprint).
RECORDED = {"courses.course", "courses.lesson", "courses.lesson_completed", "courses.material"}


@bp.after_app_request
def record_participant_action(response):
    """Cheap on every other request: a set lookup; on a click in a SIC course, one INSERT ... SELECT."""
    endpoint = request.endpoint or ""
    if endpoint not in RECORDED and request.blueprint != "evaluations":
        return response
    args = request.view_args or {}
    user = current_user._get_current_object()
    if response.status_code >= 400 or "course_id" not in args or not user.is_authenticated or not user.is_participant:
        return response
    if _sic_known_off(args["course_id"]):
        return response
    lesson_id = args.get("lesson_id")
    if endpoint == "courses.course" and request.args.get("leccion", "").isdigit():
        lesson_id = int(request.args["leccion"])
    try:
        service.record_action(user.id, args["course_id"], lesson_id=lesson_id,
                              material_id=args.get("material_id"), evaluation_id=args.get("evaluation_id"))
    except SQLAlchemyError:  # the participant's page is already answered: never fail it for a statistic
        log.warning("could not record a SIC action", exc_info=True)
        db.session.rollback()
    return response


def _sic_known_off(course_id: int) -> bool:
    """True when the request already loaded the course with its SIC settings (COURSE_LOAD_OPTIONS) and SIC is off:
    then the INSERT ... SELECT would write nothing, and its round trip and commit are saved. When in doubt (the
    course not loaded, or expired by a commit), False: the statement decides."""
    course = loaded_course(course_id)
    if course is None:
        return False
    state = sa_inspect(course, raiseerr=False)  # None for a plain CourseRow, which always carries its settings
    if state is not None and "sic" in state.unloaded:
        return False
    return course.sic is None or not course.sic.enabled


def _course(course_id: int):
    course = course_or_404(course_id)
    service.settings_of(course)
    return course


def _page(course, form=None, module_form=None, status=200):
    settings = service.settings_of(course)
    lesson_map, evaluation_map = service.mapping_of(course)
    return render_template(
        "sic/course_settings.html", course=course, settings=settings, form=form or SicSettingsForm(obj=settings),
        module_form=module_form or ModuleForm(), problems=service.problems(course), lesson_map=lesson_map,
        evaluation_map=evaluation_map, evaluations=service.course_evaluations(course.id),
        environments=ENVIRONMENT_CHOICES, linea=course.sence.linea if course.sence else None,
    ), status


@bp.route("/sic/cursos/<int:course_id>", methods=["GET", "POST"])
@admin_required
def course_settings(course_id: int):
    course = _course(course_id)
    form = SicSettingsForm(obj=service.settings_of(course))
    if form.validate_on_submit():
        service.save_settings(course, form.data)
        flash("Configuración SIC guardada.", "success")
        return redirect(url_for("sic.course_settings", course_id=course.id), 303)
    return _page(course, form=form, status=422 if form.errors else 200)


@bp.post("/sic/cursos/<int:course_id>/modulos")
@admin_required
def module_add(course_id: int):
    course = _course(course_id)
    form = ModuleForm()
    if form.validate_on_submit():
        try:
            service.add_module(course, form.codigo.data)
        except service.RuleError as err:
            form.codigo.errors.append(str(err))
        else:
            flash(f"Módulo {form.codigo.data.strip()} agregado. Asígnale lecciones y evaluaciones.", "success")
            return redirect(url_for("sic.course_settings", course_id=course.id) + "#modulos", 303)
    return _page(course, module_form=form, status=422)


@bp.post("/sic/cursos/<int:course_id>/modulos/<int:module_id>/eliminar")
@admin_required
def module_delete(course_id: int, module_id: int):
    course = _course(course_id)
    module = service.module_in(course.id, module_id)
    if module is None:
        abort(404)
    codigo = module.codigo
    service.delete_module(module)
    flash(f"Módulo {codigo} eliminado; sus lecciones quedaron sin módulo.", "success")
    return redirect(url_for("sic.course_settings", course_id=course.id) + "#modulos", 303)


def _choices(prefix: str) -> dict[int, int | None]:
    chosen = {}
    for name, value in request.form.items():
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            chosen[int(name[len(prefix):])] = int(value) if value.isdigit() else None
    return chosen


@bp.post("/sic/cursos/<int:course_id>/asignacion")
@admin_required
def mapping(course_id: int):
    course = _course(course_id)
    service.save_mapping(course, _choices("leccion-"), _choices("evaluacion-"))
    flash("Asignación de módulos guardada.", "success")
    return redirect(url_for("sic.course_settings", course_id=course.id) + "#modulos", 303)


@bp.post("/sic/cursos/<int:course_id>/enviar")
@admin_required
def send_now(course_id: int):
    """Staff's "Enviar ahora": outside the window and even if the sweep already sent today."""
    course = _course(course_id)
    try:
        record = service.send_course(course, "manual", user=current_user)
    except TokenKeyError as err:
        flash(str(err), "error")
        return redirect(url_for("sic.course_settings", course_id=course.id), 303)
    category = {"accepted": "success", "partial": "warning"}.get(record.status, "error")
    flash(f"Envío SIC: {service.STATUS_LABELS.get(record.status, record.status)}. Revisa el detalle abajo.", category)
    return redirect(url_for("sic.course_log", course_id=course.id) + f"#envio-{record.id}", 303)


@bp.get("/sic/cursos/<int:course_id>/vista-previa")
@admin_required
def preview(course_id: int):
    course = _course(course_id)
    try:
        payload, problems = service.dry_run(course)
    except TokenKeyError as err:
        payload, problems = None, [str(err)]
    text = json.dumps(payload, ensure_ascii=False, indent=2) if payload is not None else ""
    if payload is not None:  # it lists every participant's RUN and progress
        record_access("sic_preview", course_id=course.id, people=len(payload.get("listaAlumnos", [])))
    return render_template("sic/preview.html", course=course, payload_text=text, problems=problems,
                           url=service.base_url(service.settings_of(course).environment) + protocol.SEND_PATH)


@bp.get("/sic/cursos/<int:course_id>/registro")
@admin_required
def course_log(course_id: int):
    course = _course(course_id)
    sends = service.sends_of(course.id)
    named = {r.get("rut") for send in sends for r in send.rejections or []}  # the log names rejected people
    if named:
        record_access("sic_log", course_id=course.id, people=len(named))
    return render_template("sic/course_log.html", course=course, sends=sends,
                           labels=service.STATUS_LABELS, environments=ENVIRONMENT_CHOICES, now=utcnow())


@bp.get("/sic/cursos/<int:course_id>/historial")
@admin_required
def history(course_id: int):
    """SENCE's own history (historialEnvios) for the course, shown beside Pizarra's log."""
    course = _course(course_id)
    since, error = None, ""
    if request.args.get("desde"):
        try:
            since = date.fromisoformat(request.args["desde"])
        except ValueError:
            error = "La fecha «desde» no es válida (usa aaaa-mm-dd)."
    try:
        result = service.history(course, since) if not error else service.History(error=error)
    except TokenKeyError as err:
        result = service.History(error=str(err))
    context = {"course": course, "result": result, "since": since}
    if request.headers.get("HX-Request"):
        return render_template("sic/_history.html", **context)
    return render_template("sic/history.html", **context)
