"""Certificates: the rule a run sets, the certificates it issued, their history, bulk jobs.

A certificate is claimed first (status pending: number, code, snapshot and signed payload are
fixed), then its PDF is written to disk, then it is marked valid. Verification never shows a
pending certificate, so a crash at any step leaves either a complete certificate or nothing
visible, and the pending row is the work list that a re-run completes (see pipeline.py).
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.auth.models import User
from app.courses.models import CourseRun
from app.extensions import db, str_enum
from app.people.models import Person
from app.timeutil import utcnow


class CertificateKind(enum.StrEnum):
    COMPLETION = "completion"
    ATTENDANCE = "attendance"


KIND_LABELS = {
    CertificateKind.COMPLETION: _l("Certificate of completion"),
    CertificateKind.ATTENDANCE: _l("Certificate of attendance"),
}


class CertificateLanguage(enum.StrEnum):
    """The language(s) printed on a certificate: one, or two stacked (bilingual layout)."""

    EN = "en"
    SQ = "sq"
    SR_LATN = "sr_Latn"
    SQ_EN = "sq+en"
    SR_LATN_EN = "sr_Latn+en"
    SQ_SR_LATN = "sq+sr_Latn"

    @property
    def locales(self) -> list[str]:
        return self.value.split("+")


LANGUAGE_LABELS = {
    CertificateLanguage.EN: _l("English"),
    CertificateLanguage.SQ: _l("Albanian"),
    CertificateLanguage.SR_LATN: _l("Serbian (Latin)"),
    CertificateLanguage.SQ_EN: _l("Albanian and English"),
    CertificateLanguage.SR_LATN_EN: _l("Serbian (Latin) and English"),
    CertificateLanguage.SQ_SR_LATN: _l("Albanian and Serbian (Latin)"),
}


class CertificateStatus(enum.StrEnum):
    PENDING = "pending"  # claimed, PDF not yet written: invisible to verification
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"  # replaced by a re-issued certificate
    # Was valid (or pending) when its holder's data was erased: no name, no PDF, no longer
    # valid; donor reports still count it as issued (app/reports/measures.py).
    ERASED = "erased"


STATUS_LABELS = {
    CertificateStatus.PENDING: _l("Being prepared"),
    CertificateStatus.VALID: _l("Valid"),
    CertificateStatus.REVOKED: _l("Revoked"),
    CertificateStatus.SUPERSEDED: _l("Superseded"),
    CertificateStatus.ERASED: _l("Erased"),
}


class CertificateRule(db.Model):
    """What earns a certificate in one course run; runs without a row use the defaults."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course_run.id", ondelete="CASCADE"), unique=True
    )
    kind: so.Mapped[CertificateKind] = so.mapped_column(
        str_enum(CertificateKind, 20), default=CertificateKind.COMPLETION
    )
    min_attendance: so.Mapped[int] = so.mapped_column(default=80)  # percent of sessions held
    require_post_test: so.Mapped[bool] = so.mapped_column(default=False)
    require_survey: so.Mapped[bool] = so.mapped_column(default=False)
    language: so.Mapped[CertificateLanguage] = so.mapped_column(
        str_enum(CertificateLanguage, 20), default=CertificateLanguage.SQ_EN
    )
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))

    run: so.Mapped[CourseRun] = so.relationship()


class CertificateCounter(db.Model):
    """The last number given out per year; incremented atomically inside the claiming transaction."""

    year: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    last_number: so.Mapped[int] = so.mapped_column(default=0)


class Certificate(db.Model):
    __table_args__ = (
        # One certificate per learner and run, except the ones a re-issue replaced. It is also
        # what makes concurrent issuance safe: a second claim for the same learner fails here.
        sa.Index(
            "uq_certificate_current",
            "run_id",
            "person_id",
            unique=True,
            sqlite_where=sa.text("status != 'superseded'"),
            postgresql_where=sa.text("status != 'superseded'"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    number: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)  # AK-2026-000123
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)  # unguessable, in the QR
    run_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course_run.id"), index=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"), index=True)
    kind: so.Mapped[CertificateKind] = so.mapped_column(str_enum(CertificateKind, 20))
    language: so.Mapped[CertificateLanguage] = so.mapped_column(str_enum(CertificateLanguage, 20))
    status: so.Mapped[CertificateStatus] = so.mapped_column(
        str_enum(CertificateStatus, 20), default=CertificateStatus.PENDING, index=True
    )
    # Everything printed, as it was when the certificate was claimed (plain JSON values).
    snapshot: so.Mapped[dict] = so.mapped_column(sa.JSON)
    # The signed payload carried by the QR code (payload.signature, base64url).
    token: so.Mapped[str] = so.mapped_column(sa.Text)
    key_id: so.Mapped[str] = so.mapped_column(sa.String(16))
    file_name: so.Mapped[str] = so.mapped_column(sa.String(80))
    issued_on: so.Mapped[date] = so.mapped_column()  # the date printed and signed
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    issued_at: so.Mapped[datetime | None] = so.mapped_column()  # PDF written, marked valid
    # A worker renders a pending certificate only while it holds this lease.
    lease_until: so.Mapped[datetime | None] = so.mapped_column()
    revoked_at: so.Mapped[datetime | None] = so.mapped_column()
    revoked_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    revoked_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    superseded_at: so.Mapped[datetime | None] = so.mapped_column()
    # The holder's data was erased (app/privacy): no name, no PDF, verification says so.
    erased_at: so.Mapped[datetime | None] = so.mapped_column()
    replaces_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("certificate.id"), index=True
    )

    run: so.Mapped[CourseRun] = so.relationship()
    person: so.Mapped[Person] = so.relationship()
    replaces: so.Mapped["Certificate | None"] = so.relationship(remote_side=[id])

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def is_valid(self) -> bool:
        return self.status == CertificateStatus.VALID

    @property
    def is_public(self) -> bool:
        """Shown by verification: everything but a certificate still being prepared."""
        return self.status != CertificateStatus.PENDING


class EventKind(enum.StrEnum):
    ISSUED = "issued"
    DOWNLOADED = "downloaded"
    REVOKED = "revoked"
    REISSUED = "reissued"  # on the new certificate
    SUPERSEDED = "superseded"  # on the old one


EVENT_LABELS = {
    EventKind.ISSUED: _l("Issued"),
    EventKind.DOWNLOADED: _l("Downloaded"),
    EventKind.REVOKED: _l("Revoked"),
    EventKind.REISSUED: _l("Re-issued"),
    EventKind.SUPERSEDED: _l("Superseded"),
}


class CertificateEvent(db.Model):
    """Who did what to a certificate, and when: issuance, downloads, revocation, re-issue."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    certificate_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("certificate.id", ondelete="CASCADE"), index=True
    )
    kind: so.Mapped[EventKind] = so.mapped_column(str_enum(EventKind, 20))
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))  # None: automatic
    note: so.Mapped[str | None] = so.mapped_column(sa.String(500))

    user: so.Mapped[User | None] = so.relationship()

    @property
    def kind_label(self) -> str:
        return str(EVENT_LABELS[self.kind])


class JobFormat(enum.StrEnum):
    ZIP = "zip"
    PDF = "pdf"


FORMAT_LABELS = {
    JobFormat.ZIP: _l("One ZIP file with a PDF per learner"),
    JobFormat.PDF: _l("One PDF with a page per learner, for printing"),
}


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


JOB_STATUS_LABELS = {
    JobStatus.QUEUED: _l("Waiting to start"),
    JobStatus.RUNNING: _l("Issuing"),
    JobStatus.DONE: _l("Done"),
    JobStatus.FAILED: _l("Failed"),
}


class CertificateJob(db.Model):
    """Bulk issuance of a run in the background; its row survives the worker that runs it."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course_run.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    output_format: so.Mapped[JobFormat] = so.mapped_column(str_enum(JobFormat, 10))
    status: so.Mapped[JobStatus] = so.mapped_column(
        str_enum(JobStatus, 20), default=JobStatus.QUEUED, index=True
    )
    total: so.Mapped[int] = so.mapped_column(default=0)
    done: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    started_at: so.Mapped[datetime | None] = so.mapped_column()
    # Refreshed after every certificate; a running job whose heartbeat is older than the lease
    # belongs to a worker that died, and the sweeper hands it to another.
    heartbeat_at: so.Mapped[datetime | None] = so.mapped_column()
    finished_at: so.Mapped[datetime | None] = so.mapped_column()
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    output_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))

    run: so.Mapped[CourseRun] = so.relationship()
    requested_by: so.Mapped[User | None] = so.relationship()

    @property
    def status_label(self) -> str:
        return str(JOB_STATUS_LABELS[self.status])

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
