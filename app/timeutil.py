"""Times are stored as naive UTC; Flask-Babel converts them to Europe/Belgrade for display."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
