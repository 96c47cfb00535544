"""The audited actions and the values their before/after may hold, with their labels."""

from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "attendance.mark": _l("Attendance marked"),
    "activity.attendance": _l("Activity attendance changed"),
    "quiz.grade": _l("Quiz attempt graded"),
    "quiz.regrade": _l("Quiz attempt regraded"),
    "certificate.issue": _l("Certificate issued"),
    "certificate.revoke": _l("Certificate revoked"),
    "certificate.reissue": _l("Certificate re-issued"),
    "role.grant": _l("Role granted"),
    "role.revoke": _l("Role removed"),
    "report.export": _l("Report exported"),
    "report.freeze": _l("Report snapshot kept"),
    "audit.export": _l("Audit trail exported"),
}

# Labels of the keys that before/after hold; a key without a label is shown as it is.
FIELD_LABELS = {
    "status": _l("Status"),
    "channel": _l("How it was recorded"),
    "applied": _l("Applied"),
    "attended": _l("Attended"),
    "state": _l("State"),
    "score": _l("Score"),
    "max_score": _l("Maximum score"),
    "percent": _l("Percentage"),
    "passed": _l("Passed"),
    "pass_mark": _l("Pass mark"),
    "quiz_id": _l("Quiz"),
    "number": _l("Certificate number"),
    "kind": _l("Type"),
    "language": _l("Language"),
    "replaced_by": _l("Replaced by certificate"),
    "role": _l("Role"),
    "format": _l("Format"),
    "starts_on": _l("From"),
    "ends_on": _l("To"),
    "public": _l("Public version"),
    "snapshot_id": _l("Snapshot"),
    "sha256": _l("SHA-256"),
    "rows": _l("Rows"),
    "action": _l("Action"),
    "programme_id": _l("Programme"),
    "run_id": _l("Course run number"),
    "date_from": _l("From"),
    "date_to": _l("To"),
    "actor_filter": _l("Filtered by who did it"),
    "person_filter": _l("Filtered by person"),
}

SUBJECT_LABELS = {
    "session": _l("Session"),
    "activity": _l("Activity"),
    "attempt": _l("Quiz attempt"),
    "quiz": _l("Quiz"),
    "certificate": _l("Certificate"),
    "user": _l("Account"),
    "report_export": _l("Report export"),
    "report_snapshot": _l("Report snapshot"),
    "audit": _l("Audit trail"),
}
