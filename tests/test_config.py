import pytest

from app import create_app
from app.config import ConfigError


@pytest.mark.parametrize("key", [None, "short", "a" * 64])
def test_production_refuses_weak_secret_key(monkeypatch, tmp_path, key):
    monkeypatch.setenv("AKADEMIA_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/x")
    if key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def _production(monkeypatch):
    monkeypatch.setenv("AKADEMIA_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/x")
    monkeypatch.setenv("SECRET_KEY", "q8Zr3vL0pXw2NcB7mT5yH1sK9dF4gJ6aE0uR2iO8")
    monkeypatch.setenv("CERT_PUBLIC_URL", "https://akademia.example.org")


def test_production_needs_the_public_address_certificates_print(monkeypatch):
    _production(monkeypatch)
    monkeypatch.delenv("CERT_PUBLIC_URL")
    with pytest.raises(ConfigError, match="CERT_PUBLIC_URL"):
        create_app()


def test_production_settings_are_secure(monkeypatch):
    _production(monkeypatch)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["MAIL_BACKEND"] == "smtp"


def test_development_keeps_a_generated_key_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("AKADEMIA_ENV", raising=False)
    first = create_app().config["SECRET_KEY"]
    assert len(first) >= 32 and create_app().config["SECRET_KEY"] == first
