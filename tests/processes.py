"""A child process a test kills or stops, in its own process group so its workers go too."""

import os
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class ChildProcess:
    def __init__(self, command: list[str], env: dict, log: Path):
        self.log = open(log, "ab")  # noqa: SIM115 - closed in kill() or stop()
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
            command,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.log.close()

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.log.close()
