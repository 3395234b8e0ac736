from urllib.parse import urlsplit

from flask import Blueprint, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import reset, service, throttle
from app.auth.forms import ForgotForm, LoginForm, PasswordForm, ResetForm
from app.courses.service import open_sessions
from app.extensions import limiter

bp = Blueprint("auth", __name__)

THROTTLED = "Demasiados intentos fallidos de ingreso. Espera 15 minutos antes de volver a intentarlo."
FORCED = "must_change_password"  # session flag: this sign-in must set its own password before anything else
OPEN_WHILE_FORCED = {"auth.password", "auth.logout", "auth.login", "auth.forgot", "auth.reset", "static",
                     "health.healthz", "courses.timer", "sence.retoma", "sence.url_error"}
SENT = ("Si la cuenta existe y tiene un correo registrado, te enviamos un enlace para elegir una nueva contraseña. "
        "Revisa tu correo (también la carpeta de spam).")


@bp.before_app_request
def require_own_password():
    """After signing in with a password someone else chose, only the password page opens (a cookie flag: no
    query, nothing added to the timer poll)."""
    if request.endpoint in OPEN_WHILE_FORCED or not session.get(FORCED):  # static files never read the cookie
        return None
    target = url_for("auth.password")
    if request.headers.get("HX-Request"):
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)


def _failed(response) -> bool:
    """Only failed sign-ins count toward the limits."""
    return response.status_code != 302


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("courses.dashboard")


@bp.route("/ingresar", methods=["GET", "POST"])
@limiter.limit("10 per 15 minutes", key_func=throttle.account_and_client_key, methods=["POST"],
               deduct_when=_failed, error_message=THROTTLED)
@limiter.limit("50 per 15 minutes", key_func=throttle.client_key, methods=["POST"], deduct_when=_failed,
               error_message=THROTTLED)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("courses.dashboard"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = service.authenticate(form.identifier.data, form.password.data)
        if user:
            login_user(user)
            if user.must_change_password:
                session[FORCED] = True
                return redirect(url_for("auth.password"))
            session.pop(FORCED, None)
            return redirect(_safe_next(request.args.get("next")))
        error = "RUN, correo o contraseña incorrectos."
    status = 200 if request.method == "GET" or not (form.errors or error) else 422
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/salir", methods=["POST"])
@login_required
def logout():
    if current_user.is_participant and request.form.get("anyway") != "1" and open_sessions(current_user.id):
        return redirect(url_for("courses.logout_confirm"), 303)  # ask first: close them with SENCE?
    service.sign_out(current_user)
    logout_user()
    session.pop(FORCED, None)
    flash("Cerraste tu sesión en Pizarra.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/clave", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        error = service.change_password(current_user, form.current.data, form.new.data)
        if error is None:
            login_user(current_user._get_current_object())  # this browser stays signed in; other copies do not
            session.pop(FORCED, None)
            flash("Tu contraseña fue cambiada.", "success")
            return redirect(url_for("courses.dashboard"))
        form.current.errors.append(error)
    return render_template("auth/password.html", form=form, forced=session.get(FORCED)), (422 if form.errors else 200)


def _forgot_key() -> str:
    return "forgot:" + throttle.account_key()


@bp.route("/clave/olvide", methods=["GET", "POST"])
@limiter.limit("3 per hour", key_func=_forgot_key, methods=["POST"])
@limiter.limit("10 per hour", key_func=throttle.client_key, methods=["POST"])
def forgot():
    """The same answer whether the account exists or not (no enumeration); the link goes by e-mail only."""
    form = ForgotForm()
    if form.validate_on_submit():
        reset.request_reset(form.identifier.data)
        flash(SENT, "info")
        return redirect(url_for("auth.login"), 303)
    return render_template("auth/forgot.html", form=form), (422 if form.errors else 200)


@bp.route("/clave/restablecer/<token>", methods=["GET", "POST"], endpoint="reset")
def reset_password(token: str):
    user = reset.user_for_token(token)
    if user is None:
        response = make_response(render_template("auth/reset_invalid.html"), 410)
    else:
        form = ResetForm()
        if form.validate_on_submit():
            reset.set_own_password(user, form.new.data)
            logout_user()
            session.pop(FORCED, None)
            flash("Tu nueva contraseña quedó guardada. Ingresa con ella.", "success")
            return redirect(url_for("auth.login"), 303)
        response = make_response(render_template("auth/reset.html", form=form, user=user),
                                 422 if form.errors else 200)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response
