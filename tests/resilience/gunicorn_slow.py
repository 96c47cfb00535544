"""gunicorn settings for the fault tests: each worker installs the slow-call hook (slow.py)."""


def post_worker_init(worker):
    from tests.resilience import slow

    slow.install()
