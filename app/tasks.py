"""The consumer's entry point: the Huey instance with every area's tasks registered.

    huey_consumer app.tasks.huey -w 2 -k thread

Areas with background work add their tasks module here.
"""

from app.certificates import tasks as _certificates  # noqa: F401
from app.privacy import tasks as _privacy  # noqa: F401
from app.queue import huey

__all__ = ["huey"]
