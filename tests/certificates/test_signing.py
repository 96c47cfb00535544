"""Ed25519 signing: the key, tokens, tampering, and the offline verifiers (CLI and module)."""

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.certificates import services, signing
from app.extensions import db
from tests.certificates.helpers import finished_run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_key(app, tmp_path, monkeypatch):
    """A signing key made for this test in its own file."""
    monkeypatch.setitem(app.config, "CERT_SIGNING_KEY_PATH", str(tmp_path / "keys" / "sign.pem"))
    app.extensions.pop("certificate_signing_key", None)
    yield tmp_path / "keys" / "sign.pem"
    app.extensions.pop("certificate_signing_key", None)


def _pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_key_is_created_on_first_use_readable_by_the_owner_only(app, fresh_key):
    assert not fresh_key.exists()
    key = signing.private_key()
    assert stat.S_IMODE(fresh_key.stat().st_mode) == 0o600
    app.extensions.pop("certificate_signing_key")
    again = signing.private_key()
    assert signing.key_id(again.public_key()) == signing.key_id(key.public_key())


def test_key_from_the_environment_wins(app, fresh_key, monkeypatch):
    key = Ed25519PrivateKey.generate()
    # One-line environment values often carry "\n" escapes instead of line breaks.
    monkeypatch.setitem(app.config, "CERT_SIGNING_KEY", _pem(key).replace("\n", "\\n"))
    assert signing.key_id(signing.public_key()) == signing.key_id(key.public_key())
    assert not fresh_key.exists()


def test_sign_and_verify_round_trip_with_diacritics(app):
    key = Ed25519PrivateKey.generate()
    token = signing.sign(key, {"v": 1, "name": "Đorđe Šćekić-Çeku", "no": "AK-2026-000001"})
    assert signing.verify(token, key.public_key())["name"] == "Đorđe Šćekić-Çeku"
    url = f"https://akademia.example.org/verify/ABCDE-FGHJK-MNPQR-STVWX#{token}"
    assert signing.verify(url, key.public_key())["no"] == "AK-2026-000001"


def test_tampered_payload_or_wrong_key_fails(app):
    key = Ed25519PrivateKey.generate()
    token = signing.sign(key, {"v": 1, "name": "Ana", "no": "AK-2026-000001"})
    body, signature = token.split(".")
    forged_body = signing.b64u(
        json.dumps({"v": 1, "name": "Mallory", "no": "AK-2026-000001"}).encode()
    )
    with pytest.raises(signing.InvalidToken, match="signature"):
        signing.verify(f"{forged_body}.{signature}", key.public_key())
    with pytest.raises(signing.InvalidToken, match="signature"):
        signing.verify(token, Ed25519PrivateKey.generate().public_key())
    for junk in ("", "abc", "a.b.c", "!!!.???", f"{body}."):
        with pytest.raises(signing.InvalidToken):
            signing.verify(junk, key.public_key())


def _issued_token(app) -> str:
    world = finished_run(1)
    (certificate,) = services.claim_due_certificates(world.run)
    db.session.commit()
    return f"{certificate.snapshot['verify_url']}#{certificate.token}"


def test_command_line_verifier_needs_only_the_public_key(app, tmp_path):
    qr_text = _issued_token(app)
    key_file = tmp_path / "akademia.pem"
    key_file.write_text(signing.public_pem(signing.public_key()))
    ok = subprocess.run(
        [sys.executable, "-m", "app.certificates.verify_cli", qr_text, "--key", str(key_file)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "GENUINE" in ok.stdout and "Arbëresha Çeku-Đorđević" in ok.stdout
    body, signature = qr_text.split("#")[1].split(".")
    tampered = f"{body[:-4]}AAAA.{signature}"
    bad = subprocess.run(
        [sys.executable, "-m", "app.certificates.verify_cli", tampered, "--key", str(key_file)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert bad.returncode in (1, 2) and "NOT GENUINE" in bad.stderr


def test_flask_certificates_verify_command(app, runner, tmp_path):
    qr_text = _issued_token(app)
    result = runner.invoke(args=["certificates", "verify", qr_text])
    assert result.exit_code == 0, result.output
    assert "GENUINE" in result.output
    other = tmp_path / "other.pem"
    other.write_text(signing.public_pem(Ed25519PrivateKey.generate().public_key()))
    result = runner.invoke(args=["certificates", "verify", qr_text, "--key", str(other)])
    assert result.exit_code == 1


def test_public_key_command_prints_pem(app, runner):
    result = runner.invoke(args=["certificates", "public-key"])
    assert result.output.startswith("-----BEGIN PUBLIC KEY-----")
