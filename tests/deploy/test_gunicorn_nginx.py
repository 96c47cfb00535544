"""deploy/gunicorn.conf.py serves wsgi:app; deploy/nginx/akademia.conf is valid and agrees
with the app's settings."""

import json
import re
import secrets
import shutil
import subprocess

import pytest

from tests.deploy.cluster import ROOT, Browser, Server

NGINX_CONF = ROOT / "deploy" / "nginx" / "akademia.conf"


def test_gunicorn_config_serves_the_app(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "AKADEMIA_ENV": "development",
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "akademia.db"),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "HUEY_SQLITE_PATH": str(tmp_path / "huey.sqlite"),
        "LOG_FORMAT": "json",
    }
    server = Server("gunicorn", env, tmp_path, workers=1)
    try:
        server.wait_ready(60)  # /readyz: the database and the queue's SQLite file answer
        status, headers, body = Browser("203.0.113.5").get(server, "/healthz?token=Sekrit77")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        request_id = headers["X-Request-ID"]
        status, _, body = Browser("203.0.113.5").get(server, "/about?token=Sekrit77")
        assert status == 200 and b"<html" in body
    finally:
        server.stop()
    log = server.log()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(line["message"].startswith("Booting worker") for line in lines)
    [about] = [line for line in lines if line.get("route") == "/about"]
    assert (about["method"], about["status"], about["endpoint"]) == ("GET", 200, "main.about")
    # The health check is logged at DEBUG only; gunicorn's access log is off.
    assert request_id not in log
    assert "Sekrit77" not in log


def test_nginx_body_limit_matches_the_app(app):
    match = re.search(r"^\s*client_max_body_size\s+(\d+)m;", NGINX_CONF.read_text(), re.M)
    assert match, "client_max_body_size missing"
    assert int(match.group(1)) * 1024 * 1024 == app.config["MAX_CONTENT_LENGTH"]


def test_nginx_config_passes_nginx_t(tmp_path):
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if not nginx:
        pytest.skip("nginx is not installed")
    # A throwaway certificate and folders in place of the real ones.
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=akademia.example.org", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    site = (
        NGINX_CONF.read_text()
        .replace("/etc/letsencrypt/live/akademia.example.org/fullchain.pem", str(cert))
        .replace("/etc/letsencrypt/live/akademia.example.org/privkey.pem", str(key))
        .replace("/var/log/nginx/", f"{tmp_path}/")
        .replace("/srv/akademia", str(ROOT))
    )
    (tmp_path / "akademia.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/akademia.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
