"""The queue's consumer with the slow-call hook (slow.py) installed: python -m tests.resilience.slow_consumer"""

import sys

from tests.resilience import slow

if __name__ == "__main__":
    slow.install()
    from huey.bin.huey_consumer import consumer_main

    sys.argv = ["huey_consumer", "app.tasks.huey", "-w", "1", "-k", "thread"]
    sys.exit(consumer_main())
