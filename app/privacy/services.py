"""Erasure of a person's data (GDPR art. 17; Kosovo's Law No. 06/L-082 on Personal Data
Protection, art. 16) and the retention rule that anonymises old participants the same way.

The person's row and their account's row stay, emptied of everything that identifies them,
so the enrolments, attendance marks, attempts and certificates that donor reports count
keep pointing at someone. What stays on that row (sex, age group, municipality, institution,
target group) no longer relates to an identifiable person once names, contacts, birth year
and free text are gone: it is anonymised statistical data, which data-protection law does
not cover (GDPR recital 26; Law No. 06/L-082 art. 3 on anonymised data), and it is exactly
what past reports to donors were computed from, so their counts stay reproducible.

Files (certificate PDFs, bundles, pending uploads, outbox mail) are collected, not deleted:
the caller deletes them once the transaction has committed (delete_files), so a rollback
never leaves a valid certificate without its PDF.
"""

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app.activities.models import Activity, ActivityParticipant
from app.attendance.models import Attendance, AttendanceMark, Notification
from app.auth.models import LoginFailure, RecoveryCode, User, UserRole, UserSession
from app.auth.roles import Role
from app.certificates import storage
from app.certificates.models import (
    Certificate,
    CertificateEvent,
    CertificateJob,
    CertificateStatus,
)
from app.courses.models import CourseRun, CourseRunTrainer
from app.enrollment.models import Enrollment
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.people import importer
from app.people.models import AgeBand, Person, age_band_for
from app.programmes.models import Programme, ProgrammeMember, ProgrammeParticipant
from app.quizzes.models import Attempt, AttemptSlot, Question
from app.quizzes.types import TYPES
from app.surveys.models import SurveyResponse
from app.text import normalize_email, normalize_name

from .models import ErasureKind, ErasureRequest

# What an erased person's name becomes: language-neutral, and unique so lists stay ordered.
ERASED_FIRST_NAME = "[erased]"
MAX_REASON = 2000

# Account columns that hold secrets or traces of use; cleared on erasure. Columns whose name
# starts with "totp_" (two-factor secrets, added in another branch) are cleared as well: see
# _clear_user.
USER_FIELDS_CLEARED = ("password_hash", "locale", "email_confirmed_at", "last_login_at")
TOTP_PREFIX = "totp_"


@dataclass
class Erasure:
    request: ErasureRequest
    files: list[Path] = field(default_factory=list)  # delete after commit: delete_files()


def erase_person(
    *,
    person: Person,
    by: User | None,
    reason: str,
    now: datetime,
    kind: ErasureKind = ErasureKind.REQUEST,
) -> Erasure:
    """Remove or anonymise everything that identifies the person; flushes, never commits."""
    if person.erased_at is not None:
        raise Conflict(_("This person's data was erased already."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the data is erased, e.g. the date of the request."), "reason")
    user = db.session.scalar(sa.select(User).where(User.person_id == person.id))
    if by is not None and user is not None and by.id == user.id:
        raise NotAllowed(_("You cannot erase your own data: ask another administrator."))
    identifiers = [v for v in (person.first_name, person.last_name, person.email) if v]

    files = _erase_certificates(person, user, now)
    files += _stored_files_naming(identifiers)
    _erase_records(person)
    if user is not None:
        _clear_user(user, email_key=normalize_email(person.email))
    _anonymise_person(person, now)
    request = ErasureRequest(
        person_id=person.id,
        kind=kind,
        requested_by_id=by.id if by else None,
        reason=scrub(reason, identifiers)[:MAX_REASON],
        erased_at=now,
    )
    db.session.add(request)
    db.session.flush()
    return Erasure(request=request, files=files)


def delete_files(files: list[Path]) -> int:
    """Delete what an erasure collected; call after the commit. Returns how many were there."""
    deleted = 0
    for path in files:
        if path.is_file():
            path.unlink()
            deleted += 1
    return deleted


def scrub(text: str, identifiers: list[str]) -> str:
    """The text with every word of the name and the e-mail address replaced by "[…]",
    whatever their case or diacritics (an administrator may write the name in the reason)."""
    keys = set()
    for identifier in identifiers:
        keys.add(normalize_name(identifier))
        keys.update(normalize_name(part) for part in re.split(r"[\s\-]+", identifier))
    keys.discard("")
    emails = {i.casefold() for i in identifiers if "@" in i}

    def replace(match: re.Match) -> str:
        word = match.group()
        if word.casefold().strip(".,;:!?") in emails or normalize_name(word) in keys:
            return "[…]"
        return word

    return re.sub(r"[^\s()\"'«»“”„]+", replace, text)


# --- The parts ------------------------------------------------------------------------------


def _age_band_to_keep(person: Person) -> AgeBand | None:
    """The age group reports counted the person in: on the day of their latest course or
    activity (reports take the age on the period's last day from the birth year)."""
    if person.birth_year is None:
        return person.age_band
    latest_run = (
        sa.select(sa.func.max(CourseRun.ends_on))
        .join(Enrollment, Enrollment.run_id == CourseRun.id)
        .where(Enrollment.person_id == person.id)
        .scalar_subquery()
    )
    latest_activity = (
        sa.select(sa.func.max(Activity.starts_at))
        .join(ActivityParticipant, ActivityParticipant.activity_id == Activity.id)
        .where(ActivityParticipant.person_id == person.id)
        .scalar_subquery()
    )
    run_day, activity_at = db.session.execute(sa.select(latest_run, latest_activity)).one()
    days = [d for d in (run_day, activity_at.date() if activity_at else None) if d]
    on = max(days) if days else date.today()
    return age_band_for(person.birth_year, on) or person.age_band


def _anonymise_person(person: Person, now: datetime) -> None:
    person.age_band = _age_band_to_keep(person)
    person.first_name = ERASED_FIRST_NAME  # name_key follows (Person._keep_key): search too
    person.last_name = f"#{person.id}"
    person.email = None
    person.phone = None
    person.birth_year = None
    person.position = None
    person.department = None
    person.consent_photos = False
    person.consent_public_name = False
    person.needs_review = False
    person.erased_at = now
    # Kept: sex, age_band, municipality_id, institution_id, target_group (see the docstring).


def _clear_user(user: User, *, email_key: str | None) -> None:
    for name in USER_FIELDS_CLEARED:
        setattr(user, name, None)
    # TOTP: every totp_* column (secrets, recovery codes, flags) goes with the account.
    for column in User.__table__.columns:
        if column.name.startswith(TOTP_PREFIX):
            setattr(user, column.key, None if column.nullable else False)
    user.active = False
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id))
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(sa.delete(UserRole).where(UserRole.user_id == user.id))
    db.session.execute(sa.delete(ProgrammeMember).where(ProgrammeMember.user_id == user.id))
    if email_key:
        db.session.execute(sa.delete(LoginFailure).where(LoginFailure.email_key == email_key))
    db.session.expire(user, ["role_rows"])


def _erase_records(person: Person) -> None:
    """Free text about the person in rows that reports still count."""
    db.session.execute(
        sa.update(Attendance).where(Attendance.person_id == person.id).values(remark=None)
    )
    db.session.execute(
        sa.update(AttendanceMark).where(AttendanceMark.person_id == person.id).values(remark=None)
    )
    db.session.execute(sa.delete(Notification).where(Notification.person_id == person.id))
    # Ratings stay (satisfaction measures count them); the words go.
    db.session.execute(
        sa.update(SurveyResponse)
        .where(SurveyResponse.person_id == person.id)
        .values(how_applied=None, comment=None)
    )
    free_text = [name for name, kind in TYPES.items() if kind.free_text]
    slot_ids = db.session.scalars(
        sa.select(AttemptSlot.id)
        .join(Attempt, Attempt.id == AttemptSlot.attempt_id)
        .join(Question, Question.id == AttemptSlot.question_id)
        .where(
            Attempt.person_id == person.id,
            Question.qtype.in_(free_text),
            AttemptSlot.response.is_not(None),
        )
    ).all()
    if slot_ids:
        # An empty answer, not NULL: "answered" stays true for item statistics; the score
        # was stored when the attempt was graded and is kept.
        db.session.execute(
            sa.update(AttemptSlot).where(AttemptSlot.id.in_(slot_ids)).values(response="")
        )


def _erase_certificates(person: Person, user: User | None, now: datetime) -> list[Path]:
    """Keep each certificate row (its number stays taken, verification answers) without the
    name, the signed token that carries it, or its PDF."""
    files = []
    certificates = db.session.scalars(
        sa.select(Certificate).where(Certificate.person_id == person.id)
    ).all()
    for certificate in certificates:
        files.append(storage.certificate_file(certificate.file_name))
        # Revoked and superseded ones keep their status; a valid one stays counted as issued.
        if certificate.status in (CertificateStatus.VALID, CertificateStatus.PENDING):
            certificate.status = CertificateStatus.ERASED
        certificate.revoked_reason = None
        certificate.snapshot = {**certificate.snapshot, "name": None}
        certificate.token = ""
        certificate.lease_until = None
        certificate.erased_at = now
    if certificates:
        ids = [c.id for c in certificates]
        db.session.execute(
            sa.update(CertificateEvent)
            .where(CertificateEvent.certificate_id.in_(ids))
            .values(note=None)
        )
        # Bulk bundles print every learner of the run: they go; the manager makes a new one.
        jobs = db.session.scalars(
            sa.select(CertificateJob).where(
                CertificateJob.run_id.in_({c.run_id for c in certificates}),
                CertificateJob.output_name.is_not(None),
            )
        ).all()
        for job in jobs:
            files.append(storage.bundle_file(job.output_name))
            job.output_name = None
    if user is not None:
        _remove_trainer_name(user, person.full_name)
    return files


def _remove_trainer_name(user: User, name: str) -> None:
    """Other learners' certificates list their trainers: drop the erased trainer's name."""
    others = db.session.scalars(
        sa.select(Certificate).where(
            Certificate.run_id.in_(
                sa.select(CourseRunTrainer.run_id).where(CourseRunTrainer.user_id == user.id)
            )
        )
    ).all()
    for certificate in others:
        trainers = certificate.snapshot.get("trainers") or []
        if name in trainers:
            certificate.snapshot = {
                **certificate.snapshot,
                "trainers": [t for t in trainers if t != name],
            }


def _stored_files_naming(identifiers: list[str]) -> list[Path]:
    """Files in the instance folder that may hold the person's data.

    Pending import uploads (people and attendance marks, kept at most a day until a manager
    confirms them) all go: they cannot be searched reliably (XLSX is compressed), and
    confirming one later would bring the erased person back. Mail written to the development
    outbox goes when it is addressed to the person or names them.
    """
    files = []
    uploads = importer.upload_folder(current_app.instance_path)
    files += [p for p in uploads.iterdir() if p.is_file()]
    outbox = Path(current_app.config.get("MAIL_OUTBOX_DIR") or "")
    if identifiers and outbox.is_dir():
        needles = {normalize_name(i) for i in identifiers} | {i.casefold() for i in identifiers}
        for path in outbox.glob("*.eml"):
            text = _mail_text(path.read_bytes())
            if any(n and (n in text.casefold() or n in normalize_name(text)) for n in needles):
                files.append(path)
    return files


def _mail_text(raw: bytes) -> str:
    """Recipient, subject and body of a mail file, decoded; the raw text if it will not parse."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        text = f"{message['To']} {message['Subject']}"
        body = message.get_body(("plain",))
        if body is not None:
            text += " " + body.get_content()
    except (LookupError, ValueError):  # unknown charset, broken header
        return raw.decode("utf-8", "replace")
    return text


# --- Retention ------------------------------------------------------------------------------


def retention_cutoff(today: date, months: int) -> date:
    """Programmes that ended before this day are past the retention period."""
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    month += 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def retention_due(today: date, months: int) -> sa.Select:
    """Ids of the people whose every programme ended before the cutoff: participants only
    (no staff role, no programme membership), not erased yet, in id order."""
    recent = sa.select(Programme.id).where(Programme.ends_on >= retention_cutoff(today, months))
    in_recent = sa.or_(
        sa.exists().where(
            ProgrammeParticipant.person_id == Person.id,
            ProgrammeParticipant.programme_id.in_(recent),
        ),
        sa.exists()
        .where(Enrollment.person_id == Person.id, CourseRun.id == Enrollment.run_id)
        .where(CourseRun.programme_id.in_(recent)),
        sa.exists()
        .where(
            ActivityParticipant.person_id == Person.id,
            Activity.id == ActivityParticipant.activity_id,
        )
        .where(Activity.programme_id.in_(recent)),
    )
    took_part = sa.or_(
        sa.exists().where(ProgrammeParticipant.person_id == Person.id),
        sa.exists().where(Enrollment.person_id == Person.id),
        sa.exists().where(ActivityParticipant.person_id == Person.id),
    )
    staff = sa.exists().where(
        User.person_id == Person.id,
        sa.or_(
            sa.exists().where(UserRole.user_id == User.id, UserRole.role != Role.LEARNER),
            sa.exists().where(ProgrammeMember.user_id == User.id),
        ),
    )
    return (
        sa.select(Person.id)
        .where(Person.erased_at.is_(None), took_part, ~in_recent, ~staff)
        .order_by(Person.id)
    )


def erased_certificate_files() -> list[Path]:
    """PDFs of erased certificates still on disk (a crash between commit and delete_files)."""
    names = db.session.scalars(
        sa.select(Certificate.file_name).where(Certificate.erased_at.is_not(None))
    )
    return [p for p in map(storage.certificate_file, names) if p.is_file()]
