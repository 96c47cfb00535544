"""The load balancer's probes: /healthz (alive) and /readyz (database and queue storage)."""

import os

import pytest
from huey import RedisHuey

from app import queue
from tests.deploy.helpers import second_app

UNREACHABLE_DATABASE = "postgresql+psycopg://akademia@127.0.0.1:1/akademia"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def _probe(client, path):
    response = client.get(path, headers={"Accept": "application/json"})
    assert "Set-Cookie" not in response.headers, "a probe must not start a session"
    assert response.headers["Cache-Control"] == "no-store"
    return response


def test_healthz_answers_without_a_session(client):
    response = _probe(client, "/healthz")
    assert (response.status_code, response.json) == (200, {"status": "ok"})


def test_readyz_is_ready_when_database_and_queue_answer(client):
    response = _probe(client, "/readyz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "checks": {"database": "ok", "queue": "ok"},
        "failed": [],
    }


def test_readyz_names_the_database_when_it_does_not_answer(app):
    with second_app(app, SQLALCHEMY_DATABASE_URI=UNREACHABLE_DATABASE) as other:
        response = _probe(other.test_client(), "/readyz")
        # Alive all the same: the process answers, only the database is missing.
        assert _probe(other.test_client(), "/healthz").status_code == 200
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["failed"] == ["database"]
    assert response.json["checks"]["database"] == "error: OperationalError"
    assert response.json["checks"]["queue"] == "ok"


def test_readyz_names_the_queue_when_redis_does_not_answer(client, monkeypatch):
    monkeypatch.setattr(queue, "huey", RedisHuey(queue.NAME, url=UNREACHABLE_REDIS))
    response = _probe(client, "/readyz")
    assert response.status_code == 503
    assert response.json["failed"] == ["queue"]
    assert response.json["checks"] == {"database": "ok", "queue": "error: ConnectionError"}


def test_readyz_names_both_when_both_fail(app, monkeypatch):
    with second_app(app, SQLALCHEMY_DATABASE_URI=UNREACHABLE_DATABASE) as other:
        # After create_app: tests' immediate mode swaps the queue's storage for memory.
        monkeypatch.setattr(queue, "huey", RedisHuey(queue.NAME, url=UNREACHABLE_REDIS))
        response = _probe(other.test_client(), "/readyz")
    assert (response.status_code, response.json["failed"]) == (503, ["database", "queue"])


def test_readyz_pings_redis_when_the_queue_uses_it(client, monkeypatch):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set (scripts/run_tests.sh starts a Redis)")
    monkeypatch.setattr(queue, "huey", RedisHuey(queue.NAME, url=url))
    response = _probe(client, "/readyz")
    assert (response.status_code, response.json["checks"]["queue"]) == (200, "ok")
