from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import service
from app.auth.forms import LoginForm, PasswordForm
from app.courses.service import open_sessions
from app.extensions import limiter

bp = Blueprint("auth", __name__)

THROTTLED = "Demasiados intentos fallidos de ingreso. Espera 15 minutos antes de volver a intentarlo."


def _account_key() -> str:
    return "signin:" + service.identifier_key(request.form.get("identifier", ""))


def _failed(response) -> bool:
    """Only failed sign-ins count toward the limits."""
    return response.status_code != 302


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("courses.dashboard")


@bp.route("/ingresar", methods=["GET", "POST"])
@limiter.limit("10 per 15 minutes", key_func=_account_key, methods=["POST"], deduct_when=_failed,
               error_message=THROTTLED)
@limiter.limit("50 per 15 minutes", methods=["POST"], deduct_when=_failed, error_message=THROTTLED)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("courses.dashboard"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = service.authenticate(form.identifier.data, form.password.data)
        if user:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        error = "RUN, correo o contraseña incorrectos."
    status = 200 if request.method == "GET" or not (form.errors or error) else 422
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/salir", methods=["POST"])
@login_required
def logout():
    if current_user.is_participant and request.form.get("anyway") != "1" and open_sessions(current_user.id):
        return redirect(url_for("courses.logout_confirm"), 303)  # ask first: close them with SENCE?
    logout_user()
    flash("Cerraste tu sesión en Pizarra.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/clave", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        error = service.change_password(current_user, form.current.data, form.new.data)
        if error is None:
            flash("Tu contraseña fue cambiada.", "success")
            return redirect(url_for("courses.dashboard"))
        form.current.errors.append(error)
    return render_template("auth/password.html", form=form), (422 if form.errors else 200)
