"""A test hook for the processes the fault tests start (gunicorn workers, the consumer).

SLOW_CALLS="module:function@n,..." makes the call after the first n calls of each function
(n=0: the first) create SLOW_MARKER_DIR/<function> holding the process id, then sleep, so the
test can kill the process in the middle of that work. The marker is taken with O_EXCL: one
process sleeps, once; every later call, in any process, runs normally.
"""

import functools
import importlib
import itertools
import os
import time
from pathlib import Path

SLEEP_SECONDS = 120


def install() -> None:
    folder = Path(os.environ.get("SLOW_MARKER_DIR", "."))
    for spec in filter(None, os.environ.get("SLOW_CALLS", "").split(",")):
        target, _, after = spec.partition("@")
        module_name, _, name = target.partition(":")
        module = importlib.import_module(module_name)
        setattr(module, name, _slowed(getattr(module, name), folder / name, int(after or 0)))


def _slowed(original, marker: Path, after: int):
    calls = itertools.count()

    @functools.wraps(original)
    def slowed(*args, **kwargs):
        if next(calls) == after:
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                time.sleep(SLEEP_SECONDS)
        return original(*args, **kwargs)

    return slowed
