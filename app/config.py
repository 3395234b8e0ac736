"""Settings from environment variables (12-factor), with safe defaults for development."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; raised at start-up with a message an operator can act on."""


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "si", "sí"}


def _database_url(url: str) -> str:
    """Accept the common `postgres://` and `postgresql://` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config dict from the environment, then apply `overrides` (tests)."""
    overrides = overrides or {}
    env = overrides.get("ENV") or os.environ.get("PIZARRA_ENV", "production")
    lax = env in {"development", "testing"}
    upload_dir = os.environ.get("UPLOAD_DIR") or str(INSTANCE / "uploads")
    cfg = {
        "ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": _database_url(
            os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'pizarra.sqlite3'}"
        ),
        # A connection the server ended is replaced on checkout (app/extensions.py), without a ping per request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://localhost:5000").rstrip("/"),
        "PORT": int(os.environ.get("PORT", "5000")),
        "SENCE_SIMULATOR_URL": os.environ.get("SENCE_SIMULATOR_URL", "http://127.0.0.1:5001/rce").rstrip("/"),
        # The simulator's ClaveÚnica look-alike (another origin): only the SENCE trip page's CSP needs it.
        "SENCE_SIMULATOR_CLAVEUNICA_URL": os.environ.get(
            "SENCE_SIMULATOR_CLAVEUNICA_URL",
            f"http://127.0.0.1:{os.environ.get('SIMULATOR_CLAVEUNICA_PORT') or 5002}",
        ).rstrip("/"),
        "SENCE_TEST_URL": os.environ.get("SENCE_TEST_URL", "https://sistemas.sence.cl/rcetest").rstrip("/"),
        "SENCE_PRODUCTION_URL": os.environ.get(
            "SENCE_PRODUCTION_URL", "https://sistemas.sence.cl/rce"
        ).rstrip("/"),
        # Minutes SENCE's FechaHora may differ from our clock before the log and reports flag it.
        "SENCE_CLOCK_TOLERANCE_MINUTES": int(os.environ.get("SENCE_CLOCK_TOLERANCE_MINUTES", "10")),
        # SIC progress API (instructivo LMS-SIC v2.0): bases to which /enviarAvance and /historialEnvios are added.
        "SIC_SIMULATOR_URL": os.environ.get("SIC_SIMULATOR_URL", "http://127.0.0.1:5001/sic").rstrip("/"),
        "SIC_PRODUCTION_URL": os.environ.get(
            "SIC_PRODUCTION_URL", "https://auladigital.sence.cl/gestor/API/avance-sic"
        ).rstrip("/"),
        "SIC_TIMEOUT_SECONDS": float(os.environ.get("SIC_TIMEOUT_SECONDS", "600")),  # instructivo p. 44
        "SIC_RETRIES": int(os.environ.get("SIC_RETRIES", "3")),
        "SIC_RETRY_WAIT_SECONDS": float(os.environ.get("SIC_RETRY_WAIT_SECONDS", "30")),
        "TOKEN_ENCRYPTION_KEY": os.environ.get("TOKEN_ENCRYPTION_KEY"),
        "UPLOAD_DIR": upload_dir,
        # SENCE answers the database could not take (app/sence/journal.py); `flask sweep` replays them.
        "SENCE_JOURNAL_DIR": os.environ.get("SENCE_JOURNAL_DIR") or str(INSTANCE / "sence-journal"),
        "MAX_UPLOAD_MB": int(os.environ.get("MAX_UPLOAD_MB", "200")),
        "MAX_FORM_BYTES": 2 * 1024 * 1024,  # every form but the uploads
        "MAX_SMALL_FORM_BYTES": 64 * 1024,  # SENCE's answers, sign-in and password reset
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Pizarra <no-responder@localhost>"),
        # Shared by every worker: Redis when configured, otherwise the database (app/auth/throttle.py).
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL")
        or "database://",
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": False,
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        "DISPLAY_TIMEZONE": "America/Santiago",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
    }
    cfg.update(overrides)
    cfg.setdefault("MAX_CONTENT_LENGTH", cfg["MAX_UPLOAD_MB"] * 1024 * 1024 + 1024 * 1024)
    secure = cfg["PUBLIC_BASE_URL"].startswith("https://")
    cfg.setdefault("SESSION_COOKIE_SECURE", secure)
    cfg.setdefault("REMEMBER_COOKIE_SECURE", secure)
    _require_secrets(cfg, lax)
    return cfg


def _require_secrets(cfg: dict, lax: bool) -> None:
    if not cfg.get("SECRET_KEY"):
        if not lax:
            raise ConfigError(
                "SECRET_KEY no está definida. Defínala en el entorno (p. ej. "
                "`export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')`) "
                "o use PIZARRA_ENV=development para trabajar en local."
            )
        cfg["SECRET_KEY"] = "dev-only-not-secret"  # noqa: S105 (development only)
    if not cfg.get("TOKEN_ENCRYPTION_KEY"):
        if not lax:
            raise ConfigError(
                "TOKEN_ENCRYPTION_KEY no está definida: es la clave Fernet que cifra los tokens SENCE. "
                "Genere una con `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`."
            )
        # A fixed development key: tokens in a dev database are not secret.
        cfg["TOKEN_ENCRYPTION_KEY"] = "ZGV2LW9ubHkta2V5LWZvci1waXphcnJhLXRva2Vucyw="  # noqa: S105
