"""Pizarra: application factory."""

import logging
from functools import cached_property
from importlib import import_module

from flask import Flask, current_app, render_template, request
from flask.globals import _cv_request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.config import load_config
from app.extensions import (
    csrf,
    db,
    discard_session,
    end_without_transaction,
    init_autocommit_engine,
    limiter,
    login_manager,
    migrate,
    start_without_transaction,
)
from app.memo import BoundedMemo
from app.sessions import VerifiedOnceSessionInterface

BLUEPRINTS = ("health", "auth", "courses", "sence", "admin", "reports", "notify", "privacy", "evaluations",
              "certificates", "closeout", "sic", "account")
# Every model module, so that metadata (create_all, Alembic) sees every table.
MODEL_MODULES = ("auth", "courses", "sence", "notify", "privacy", "evaluations", "certificates", "closeout", "sic")


class Pizarra(Flask):
    """Flask, remembering the URLs it built while the workers run: a URL depends only on the endpoint, its values
    and the mount point (a static file's fingerprint is fixed per worker outside debug mode). A course page builds
    about twenty, ~8–15 µs each through werkzeug. External URLs, anchors and values other than numbers and text
    are built every time."""

    MAX_REMEMBERED_URLS = 4096

    def url_for(self, endpoint: str, **values) -> str:
        given = {name: value for name, value in values.items() if value is not None}  # flask.url_for passes
        context = _cv_request.get(None)  # not the `request` proxy: two lookups fewer, twenty times a page
        if (endpoint.startswith(".") or self.debug or context is None  # _anchor=None and friends
                or not all(type(value) in (int, str) and name[0] != "_" for name, value in given.items())):
            return super().url_for(endpoint, **values)
        key = (context.request.script_root, endpoint, *sorted(given.items()))
        url = self._built_urls.get(key)
        if url is None:
            url = self._built_urls.keep(key, super().url_for(endpoint, **values))
        return url

    @cached_property
    def _built_urls(self) -> BoundedMemo:
        return BoundedMemo(self.MAX_REMEMBERED_URLS)

    MAX_REMEMBERED_FUNCTIONS = 1024

    def ensure_sync(self, func):
        """Flask asks this of the view and of every request hook on every request (about fourteen
        `inspect.iscoroutinefunction` calls a page, ~5 % of the timer poll); whether a function is a coroutine does
        not change, so it is asked once per function. Bounded: after_this_request can hand in a new closure each
        time."""
        known = self._sync_functions.get(func)
        if known is None:
            known = self._sync_functions.keep(func, super().ensure_sync(func))
        return known

    @cached_property
    def _sync_functions(self) -> BoundedMemo:
        return BoundedMemo(self.MAX_REMEMBERED_FUNCTIONS)


def create_app(overrides: dict | None = None) -> Flask:
    app = Pizarra(__name__, template_folder="../templates", static_folder="../static", instance_relative_config=True)
    app.config.update(load_config(overrides))
    app.session_interface = VerifiedOnceSessionInterface()
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxies = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    _init_extensions(app)
    from app.security import use_database_ints

    use_database_ints(app)
    for name in BLUEPRINTS:
        module = import_module(f"app.{name}.views")
        app.register_blueprint(module.bp)
    _register_error_pages(app)
    _register_template_helpers(app)
    from app.security import init_security

    init_security(app)
    from app.cli import register_cli

    register_cli(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from app.auth.throttle import warn_if_per_process

    warn_if_per_process(app)
    return app


def _init_extensions(app: Flask) -> None:
    for name in MODEL_MODULES:
        import_module(f"app.{name}.models")
    db.init_app(app)
    init_autocommit_engine(app)
    app.before_request(start_without_transaction)
    app.teardown_request(end_without_transaction)
    app.teardown_appcontext(_release_session)  # runs before Flask-SQLAlchemy's own session.remove()
    migrate.init_app(app, db, directory=str(app.config.get("MIGRATIONS_DIR", "migrations")),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Ingresa para continuar."
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    import_module("app.auth.throttle")  # registers the database:// rate-limit storage
    limiter.init_app(app)
    from app import assets

    assets.init_app(app)  # compression and fingerprinted, long-cached static files

    from app.auth.service import load_user

    login_manager.user_loader(load_user)


ERROR_TEXT = {
    400: ("Solicitud no válida", "Los datos enviados no se pudieron leer. Vuelve atrás e inténtalo de nuevo."),
    403: ("Acceso denegado", "No tienes permiso para ver esta página."),
    404: ("Página no encontrada", "La dirección no existe o el elemento fue eliminado."),
    405: ("Método no permitido", "Esta dirección no acepta ese tipo de solicitud."),
    413: ("Envío demasiado grande", "Lo enviado supera el tamaño máximo permitido (un archivo demasiado grande o "
                                    "un formulario con demasiado texto)."),
    429: ("Demasiados intentos", "Hiciste demasiadas solicitudes seguidas. Espera un momento e inténtalo de nuevo."),
    500: ("Error interno", "Ocurrió un error inesperado. Ya quedó registrado; inténtalo de nuevo en un momento."),
}


def _error_page(code: int, message: str | None = None):
    title, text = ERROR_TEXT.get(code, ("Error", "Ocurrió un error."))
    if request.headers.get("HX-Request"):
        return render_template("_error.html", title=title, message=message or text), code
    return render_template("error.html", code=code, title=title, message=message or text), code


def _release_session(exc) -> None:
    try:
        db.session.remove()
    except SQLAlchemyError:
        current_app.logger.warning("database connection lost at the end of a request", exc_info=True)
        db.session().invalidate()
        db.session.registry.clear()


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(err):
        return _error_page(400, "El formulario expiró o no es válido. Recarga la página e inténtalo de nuevo.")

    @app.errorhandler(429)
    def throttled(err):
        if request.endpoint == "auth.login":
            from app.auth.forms import LoginForm

            return render_template("auth/login.html", form=LoginForm(), error=err.description), 429
        return _error_page(429)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        description = err.description if getattr(err, "pizarra_message", False) else None
        return _error_page(err.code or 500, description)

    @app.errorhandler(Exception)
    def unexpected(err: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        discard_session()
        return _error_page(500)


def _register_template_helpers(app: Flask) -> None:
    from app.timeutil import format_chile

    app.jinja_env.filters["chile"] = format_chile
    app.jinja_env.globals["nav_items"] = _nav_items
    app.jinja_env.globals["course_tab_items"] = _course_tab_items
    from app.formatting import register as register_formatting

    register_formatting(app)


ADMIN_NAV = (("admin.courses", "Cursos"), ("admin.users", "Usuarios"), ("sence.otecs", "OTEC y SENCE"),
             ("reports.live", "En vivo"), ("notify.outbox", "Correos"), ("privacy.requests", "Privacidad"))
# Per-course admin pages that take `course_id`; each blueprint's endpoint shows up once it exists.
COURSE_TABS = (("sence.course_settings", "SENCE"), ("courses.lessons_edit", "Lecciones"),
               ("reports.attendance", "Asistencia"), ("reports.course_progress", "Avance"),
               ("reports.course_live", "En vivo"), ("evaluations.gradebook_page", "Calificaciones"),
               ("closeout.page", "Cierre"), ("sic.course_settings", "SIC"))


def _existing(items):
    return [(endpoint, label) for endpoint, label in items if endpoint in current_app.view_functions]


def _nav_items():
    """Navigation links for the signed-in user's role (base layout)."""
    if not current_user.is_authenticated:
        return []
    items = [("courses.dashboard", "Mis cursos")]
    if current_user.is_admin:
        items += list(ADMIN_NAV)
    items.append(("privacy.my_data", "Mis datos"))
    return _existing(items)


def _course_tab_items():
    return _existing(COURSE_TABS)
