"""The audit trail: who changed attendance, grades, certificates, roles and exports, and how.

Services call `audit.record(...)` next to the change; see services.py for when it is written.
"""

from .services import CURRENT, record, record_role

__all__ = ["CURRENT", "record", "record_role"]
