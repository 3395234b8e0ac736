from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.admin import csv_import, service
from app.admin.forms import AssignGroupForm, CourseForm, EnrollForm, GroupForm, ImportForm, UserForm
from app.auth.access import admin_required
from app.auth.models import User
from app.courses.access import course_or_404
from app.courses.models import Course, Enrollment, Group
from app.extensions import db
from app.privacy.trail import record_access
from app.sence import preflight
from app.sence import service as sence_service
from app.sence.models import CourseSence

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _instructor_choices():
    staff = db.session.execute(
        select(User).where(User.role == "instructor", User.active.is_(True)).order_by(User.full_name)
    ).scalars()
    return [(u.id, u.full_name) for u in staff]


def _instructors(ids: list[int]) -> list[User]:
    if not ids:
        return []
    return list(db.session.execute(select(User).where(User.id.in_(ids), User.role == "instructor")).scalars())


def _course_data(form: CourseForm) -> dict:
    return {"title": form.title.data.strip(), "description": (form.description.data or "").strip(),
            "start_date": form.start_date.data, "end_date": form.end_date.data, "hours": form.hours.data}


@bp.route("/cursos")
@admin_required
def courses():
    rows = db.session.execute(
        select(Course).options(selectinload(Course.sence).selectinload(CourseSence.otec)).order_by(Course.title)
    ).scalars().all()
    checks = preflight.review_courses(rows, sence_service.return_url_problems())
    return render_template("admin/courses.html", courses=rows, checks=checks)


@bp.route("/cursos/nuevo", methods=["GET", "POST"])
@admin_required
def course_new():
    form = CourseForm()
    form.instructors.choices = _instructor_choices()
    if form.validate_on_submit():
        course = service.create_course(_course_data(form), _instructors(form.instructors.data))
        flash(f"Curso «{course.title}» creado.", "success")
        return redirect(url_for("admin.enrollments", course_id=course.id))
    return render_template("admin/course_form.html", form=form, course=None), (422 if form.errors else 200)


@bp.route("/cursos/<int:course_id>/editar", methods=["GET", "POST"])
@admin_required
def course_edit(course_id: int):
    course = course_or_404(course_id)
    form = CourseForm(obj=course)
    form.instructors.choices = _instructor_choices()
    if request.method == "GET":
        form.instructors.data = [u.id for u in course.instructors]
    if form.validate_on_submit():
        service.update_course(course, _course_data(form), _instructors(form.instructors.data))
        flash("Cambios guardados.", "success")
        return redirect(url_for("admin.course_edit", course_id=course.id))
    return render_template("admin/course_form.html", form=form, course=course), (422 if form.errors else 200)


def _group_choices(course: Course):
    return [(0, "Sin grupo")] + [(g.id, g.name) for g in course.groups]


def _group(course: Course, group_id: int | None) -> Group | None:
    if not group_id:
        return None
    group = db.session.get(Group, group_id)
    if group is None or group.course_id != course.id:
        abort(404)
    return group


def _enrollment_rows(course: Course):
    """One page of the course's participants, narrowed by the search box (`q`)."""
    return db.paginate(service.enrollments_query(course, request.args.get("q", "")), page=_page(),
                       per_page=service.PER_PAGE, error_out=False)


def _page() -> int:
    return max(request.args.get("pagina", 1, type=int), 1)


@bp.route("/cursos/<int:course_id>/participantes", methods=["GET", "POST"])
@admin_required
def enrollments(course_id: int):
    course = course_or_404(course_id)
    form = EnrollForm(prefix="enroll")
    form.group.choices = _group_choices(course)
    if form.validate_on_submit():
        try:
            user = _participant_for(form)
            service.enroll(course, user, _group(course, form.group.data))
        except service.RuleError as err:
            db.session.rollback()
            form.run.errors.append(str(err))
        else:
            flash(f"{user.full_name} quedó inscrito.", "success")
            return redirect(url_for("admin.enrollments", course_id=course.id))
    return render_template(
        "admin/enrollments.html", course=course, form=form, import_form=ImportForm(prefix="import"),
        group_form=GroupForm(prefix="group"), rows=_enrollment_rows(course), group_choices=_group_choices(course),
    ), (422 if form.errors else 200)


def _participant_for(form: EnrollForm) -> User:
    user = service.user_by_run(form.run.data)
    if user is not None:
        return user
    if not form.full_name.data:
        raise service.RuleError("Ese RUN no está en Pizarra: escribe también el nombre completo.")
    if not form.password.data:
        raise service.RuleError("Ese RUN no está en Pizarra: indica una contraseña inicial.")
    return service.create_user(role="participant", full_name=form.full_name.data.strip(), run=form.run.data,
                               email=form.email.data or None, phone=form.phone.data, mobile=form.mobile.data,
                               password=form.password.data, must_change_password=True)


@bp.route("/cursos/<int:course_id>/importar", methods=["POST"])
@admin_required
def import_csv(course_id: int):
    course = course_or_404(course_id)
    form = ImportForm(prefix="import")
    report, error = None, None
    if form.validate_on_submit():
        try:
            report = service.import_participants(course, form.file.data.read(), form.password.data,
                                                 invite=form.invite.data)
        except csv_import.UnreadableFile as err:
            db.session.rollback()
            error = str(err)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    status = 422 if error else 200
    return render_template("admin/import_result.html", course=course, report=report, error=error), status


@bp.route("/cursos/<int:course_id>/grupos", methods=["POST"])
@admin_required
def group_new(course_id: int):
    course = course_or_404(course_id)
    form = GroupForm(prefix="group")
    if form.validate_on_submit():
        try:
            service.create_group(course, form.name.data)
            flash("Grupo creado.", "success")
        except service.RuleError as err:
            db.session.rollback()
            flash(str(err), "error")
    else:
        flash("Escribe un nombre válido para el grupo (máximo 100 caracteres).", "error")
    return redirect(url_for("admin.enrollments", course_id=course.id))


def _enrollment_or_404(course: Course, enrollment_id: int) -> Enrollment:
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.course_id != course.id:
        abort(404)
    return enrollment


@bp.route("/cursos/<int:course_id>/participantes/<int:enrollment_id>/grupo", methods=["POST"])
@admin_required
def enrollment_group(course_id: int, enrollment_id: int):
    course = course_or_404(course_id)
    enrollment = _enrollment_or_404(course, enrollment_id)
    form = AssignGroupForm()
    form.group.choices = _group_choices(course)
    if form.validate_on_submit():
        service.set_group(enrollment, _group(course, form.group.data))
        flash(f"Grupo de {enrollment.user.full_name} actualizado.", "success")
    else:
        flash("Elige un grupo válido.", "error")
    return redirect(url_for("admin.enrollments", course_id=course.id))


@bp.route("/cursos/<int:course_id>/participantes/<int:enrollment_id>/quitar", methods=["POST"])
@admin_required
def enrollment_remove(course_id: int, enrollment_id: int):
    course = course_or_404(course_id)
    enrollment = _enrollment_or_404(course, enrollment_id)
    name = enrollment.user.full_name
    service.unenroll(enrollment)
    flash(f"{name} ya no está inscrito en el curso.", "success")
    return redirect(url_for("admin.enrollments", course_id=course.id))


@bp.route("/usuarios")
@admin_required
def users():
    role = request.args.get("rol")
    if role not in ("admin", "instructor", "participant"):
        role = None
    text = request.args.get("q", "").strip()[:100]
    users = db.paginate(service.users_query(role, text), page=_page(), per_page=service.PER_PAGE, error_out=False)
    return render_template("admin/users.html", users=users, role=role, q=text)


@bp.route("/usuarios/nuevo", methods=["GET", "POST"])
@admin_required
def user_new():
    form = UserForm()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append("Indica una contraseña inicial.")
        else:
            try:
                user = service.create_user(role=form.role.data, full_name=form.full_name.data.strip(),
                                           email=form.email.data or None, run=form.run.data or None,
                                           phone=form.phone.data, mobile=form.mobile.data,
                                           password=form.password.data, must_change_password=True)
            except service.RuleError as err:
                db.session.rollback()
                form.full_name.errors.append(str(err))
            else:
                flash(f"Usuario {user.full_name} creado.", "success")
                return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None), (422 if form.errors else 200)


@bp.route("/usuarios/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if request.method == "GET" and user.is_participant:
        record_access("user_detail", subject_user_id=user.id)
    form = UserForm(obj=user)
    del form.role  # a role is chosen once, at creation
    if form.validate_on_submit():
        try:
            service.update_user(user, full_name=form.full_name.data.strip(), email=form.email.data or None,
                                run=form.run.data or None, phone=form.phone.data, mobile=form.mobile.data,
                                active=form.active.data, password=form.password.data or None)
        except service.RuleError as err:
            db.session.rollback()
            form.full_name.errors.append(str(err))
        else:
            flash("Cambios guardados.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user), (422 if form.errors else 200)


@bp.post("/usuarios/<int:user_id>/cerrar-sesiones")
@admin_required
def user_end_sessions(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    service.end_sessions(user)
    flash(f"Se cerraron las sesiones de {user.full_name} en todos sus dispositivos.", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id), 303)


@bp.post("/usuarios/<int:user_id>/restablecer-clave")
@admin_required
def user_force_reset(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if service.force_password_reset(user):
        flash(f"Se envió a {user.email} un enlace para elegir contraseña; {user.full_name} deberá cambiarla "
              "al ingresar.", "success")
    else:
        flash(f"{user.full_name} no tiene correo: deberá cambiar su contraseña al ingresar. Asígnale una "
              "contraseña inicial en este formulario y entrégasela.", "warning")
    return redirect(url_for("admin.user_edit", user_id=user.id), 303)
