"""Plain view models for certificate pages, so templates hold no rules."""

from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _

from app.i18n import CONTENT_SUFFIX, current_locale

from .models import KIND_LABELS, Certificate, CertificateStatus
from .rules import Standing


def course_title(certificate: Certificate) -> str:
    titles = certificate.snapshot["course"]["titles"]
    return titles.get(CONTENT_SUFFIX.get(current_locale(), "en")) or titles["en"]


@dataclass
class Verification:
    """Only what a verifier needs; a superseded certificate names nobody."""

    status: str
    status_label: str
    number: str
    name: str | None
    course: str
    hours: int
    starts_on: date
    ends_on: date
    issued_on: date
    kind: str
    issuer: str
    programme: str
    revoked_on: date | None = None
    reason: str | None = None
    superseded_on: date | None = None
    erased_on: date | None = None  # the holder's data was erased: no name, no reason

    @property
    def valid(self) -> bool:
        return self.status == CertificateStatus.VALID

    def as_json(self) -> dict:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, date):
                data[key] = value.isoformat()
        return {key: value for key, value in data.items() if value is not None}


def verification(certificate: Certificate) -> Verification:
    snap = certificate.snapshot
    superseded = certificate.status == CertificateStatus.SUPERSEDED
    revoked = certificate.status == CertificateStatus.REVOKED
    return Verification(
        status=certificate.status.value,
        status_label=certificate.status_label,
        number=certificate.number,
        name=None if superseded else snap.get("name"),
        course=course_title(certificate),
        hours=snap["course"]["hours"],
        starts_on=date.fromisoformat(snap["starts_on"]),
        ends_on=date.fromisoformat(snap["ends_on"]),
        issued_on=certificate.issued_on,
        kind=str(KIND_LABELS[certificate.kind]),
        issuer=snap["issuer"],
        programme=snap["programme"]["name"],
        revoked_on=certificate.revoked_at.date() if revoked and certificate.revoked_at else None,
        reason=certificate.revoked_reason if revoked and not certificate.erased_at else None,
        superseded_on=(
            certificate.superseded_at.date() if superseded and certificate.superseded_at else None
        ),
        erased_on=certificate.erased_at.date() if certificate.erased_at else None,
    )


@dataclass
class OfflineResult:
    valid: bool
    message: str
    fields: list[tuple[str, str]] = field(default_factory=list)


def offline_labels() -> dict[str, str]:
    """The payload's fields a person reads, labelled in the interface language."""
    return {
        "no": _("Number"),
        "name": _("Name"),
        "course": _("Course"),
        "hours": _("Hours"),
        "from": _("From"),
        "to": _("To"),
        "issued": _("Issued on"),
        "programme": _("Programme"),
        "issuer": _("Issued by"),
        "code": _("Verification code"),
    }


def offline_fields(payload: dict) -> list[tuple[str, str]]:
    return [(label, str(payload[key])) for key, label in offline_labels().items() if key in payload]


@dataclass
class RunPanel:
    """The certificate box on a course run's page."""

    manage: bool
    standing: Standing | None = None
    certificate: Certificate | None = None

    @property
    def waiting(self) -> bool:
        return self.standing is not None and self.certificate is None and self.standing.met


@dataclass
class JobView:
    id: int
    status: str
    status_label: str
    total: int
    done: int
    percent: int
    finished: bool
    error: str | None
    download_url: str | None
    created_at: datetime

    def as_json(self) -> dict:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat() + "Z"
        return data
