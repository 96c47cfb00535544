"""A world of its own for tests that run Akademia in other processes (gunicorn, the consumer).

On PostgreSQL (TEST_DATABASE_URL) it is a database created beside the test database and
dropped afterwards; else a SQLite file. Either way the other tests' data and the servers'
writes never meet.
"""

import os
import secrets

import pytest

from tests.resilience import mix


@pytest.fixture
def world_url(tmp_path):
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path / 'world.db'}"
        return
    name = f"akademia_resilience_{secrets.token_hex(4)}"
    url = mix.create_postgres_database(server, name)
    try:
        yield url
    finally:
        mix.drop_postgres_database(server, name)


@pytest.fixture
def world(world_url, tmp_path):
    return mix.build_world(world_url, tmp_path / "world")
