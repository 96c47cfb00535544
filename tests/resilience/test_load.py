"""Eight clients for thirty seconds against gunicorn with four workers: correctness only.

Trainers send roll-call marks through the sync API (one mark per request, some resent as a
phone does), learners answer and submit quiz attempts and download their certificates, and
everyone views pages. Afterwards the database must hold every acknowledged write exactly once
and nothing half-written, and no request may have failed. Timings: bench/load.py.
"""

from tests.resilience import mix

CLIENTS = 8
SECONDS = 30
WORKERS = 4
KINDS = {"page", "attendance mark", "quiz start", "quiz answer", "quiz submit", "certificate PDF"}


def test_mixed_load_loses_and_doubles_nothing(world, tmp_path):
    assert len(world.trainers) + len(world.learners) == CLIENTS
    with mix.Server("wsgi:app", world.env(), tmp_path / "gunicorn.log", workers=WORKERS) as server:
        server.wait_ready()
        ledger = mix.run_mix(server.port, world, SECONDS)
        assert server.process.poll() is None
    problems = mix.check(world.url, ledger)
    assert problems == {}, (problems, (tmp_path / "gunicorn.log").read_text()[-3000:])
    assert set(ledger.latencies) == KINDS  # every kind of request was made
    assert not [s for s in ledger.statuses if s >= 500]
    assert ledger.marks and ledger.answers and ledger.submitted and ledger.downloads
