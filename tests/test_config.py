import pytest

from app.config import ConfigError, load_config


@pytest.fixture
def production_env(monkeypatch):
    for name in ("SECRET_KEY", "TOKEN_ENCRYPTION_KEY", "DATABASE_URL", "PUBLIC_BASE_URL", "PIZARRA_ENV"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_refuses_to_start_without_a_secret_key(production_env):
    with pytest.raises(ConfigError, match="SECRET_KEY no está definida"):
        load_config()


def test_production_refuses_to_start_without_the_token_key(production_env):
    production_env.setenv("SECRET_KEY", "s" * 32)
    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEY"):
        load_config()


def test_development_has_safe_defaults(production_env):
    production_env.setenv("PIZARRA_ENV", "development")
    cfg = load_config()
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///") and cfg["SQLALCHEMY_DATABASE_URI"].endswith(
        "instance/pizarra.sqlite3")
    assert cfg["SENCE_TEST_URL"] == "https://sistemas.sence.cl/rcetest"
    assert cfg["SENCE_PRODUCTION_URL"] == "https://sistemas.sence.cl/rce"
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax" and cfg["SESSION_COOKIE_SECURE"] is False


def test_postgres_urls_use_psycopg_3_and_https_makes_cookies_secure(production_env):
    production_env.setenv("SECRET_KEY", "s" * 32)
    production_env.setenv("TOKEN_ENCRYPTION_KEY", "k")
    production_env.setenv("DATABASE_URL", "postgres://u:p@db/pizarra")
    production_env.setenv("PUBLIC_BASE_URL", "https://pizarra.otec.cl/")
    cfg = load_config()
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/pizarra"
    assert cfg["PUBLIC_BASE_URL"] == "https://pizarra.otec.cl"
    assert cfg["SESSION_COOKIE_SECURE"] is True
