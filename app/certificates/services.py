"""Certificate rules that change state: claim, issue when due, revoke, re-issue, bulk jobs.

These functions flush and never commit. Rendering is not done here: a claimed certificate
is pending until the pipeline (app/certificates/pipeline.py, run by the task queue) has
written its PDF. Work for the queue is handed over only when the caller's transaction
commits (`_after_commit`), so a rolled-back request leaves nothing behind and nothing runs.
"""

from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app import audit, progress
from app.auth.models import User
from app.courses.digcomp import COMPETENCES
from app.courses.models import CourseRun
from app.errors import Conflict, DomainError
from app.extensions import db
from app.people.models import Person
from app.timeutil import utcnow

from . import numbering, signing
from .models import (
    Certificate,
    CertificateEvent,
    CertificateJob,
    CertificateKind,
    CertificateLanguage,
    CertificateRule,
    CertificateStatus,
    EventKind,
    JobFormat,
    JobStatus,
)
from .rules import evaluate, local_today, rule_for, saved_rule

VERIFY_PATH = "/verify/"  # the public verification page, as routes.py declares it
MAX_REASON = 500
_PENDING_TASKS = "certificates_after_commit"


# --- Work handed to the queue once the caller commits ---------------------------------------


def _after_commit(task: str, argument: int) -> None:
    db.session.info.setdefault(_PENDING_TASKS, []).append((task, argument))


@sa.event.listens_for(db.session, "after_commit")
def _enqueue_after_commit(session):
    if session.in_nested_transaction():
        return  # SQLAlchemy also calls this when a savepoint is released
    pending = session.info.pop(_PENDING_TASKS, None)
    if pending:
        from . import tasks

        for task, argument in dict.fromkeys(pending):
            getattr(tasks, task)(argument)


@sa.event.listens_for(db.session, "after_rollback")
def _forget_after_rollback(session):
    if not session.in_nested_transaction():  # a savepoint's rollback keeps the rest
        session.info.pop(_PENDING_TASKS, None)


# --- Snapshot and signed payload ------------------------------------------------------------


def public_base_url() -> str:
    configured = current_app.config.get("CERT_PUBLIC_URL")
    if configured:
        return configured.rstrip("/")
    server = current_app.config.get("SERVER_NAME")
    if server:
        return f"{current_app.config.get('PREFERRED_URL_SCHEME', 'http')}://{server}"
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://127.0.0.1:5000"


def verify_url(code: str) -> str:
    return f"{public_base_url()}{VERIFY_PATH}{code}"


def run_snapshot(run: CourseRun, language: CertificateLanguage) -> dict:
    """What a certificate prints about the run, as plain JSON values."""
    course = run.course
    competences = []
    for code in course.competence_codes:
        labels = {}
        for locale in language.locales:
            with force_locale(locale):
                labels[locale] = str(COMPETENCES.get(code, ""))
        competences.append({"code": code, "labels": labels})
    return {
        "course": {
            "code": course.code,
            "titles": {"en": course.title_en, "sq": course.title_sq, "sr": course.title_sr},
            "hours": course.hours,
            "level": course.level,
        },
        "competences": competences,
        "starts_on": run.starts_on.isoformat(),
        "ends_on": run.ends_on.isoformat(),
        "place": f"{run.venue}, {run.municipality.display_name}",
        "trainers": sorted(row.user.name for row in run.trainer_rows),
        "programme": {
            "code": run.programme.code,
            "name": run.programme.name,
            "donor": run.programme.donor,
            "grant_code": run.programme.grant_code,
        },
        "issuer": current_app.config.get("CERT_ISSUER", "Akademia"),
    }


def _payload(certificate: Certificate, snapshot: dict, key_id: str) -> dict:
    """What the QR code carries, signed: enough for a verifier offline to see what it attests."""
    first = certificate.language.locales[0]
    titles = snapshot["course"]["titles"]
    suffix = {"en": "en", "sq": "sq", "sr_Latn": "sr"}[first]
    return {
        "v": signing.PAYLOAD_VERSION,
        "kid": key_id,
        "no": certificate.number,
        "code": certificate.code,
        "name": snapshot["name"],
        "course": titles.get(suffix) or titles["en"],
        "hours": snapshot["course"]["hours"],
        "from": snapshot["starts_on"],
        "to": snapshot["ends_on"],
        "issued": snapshot["issued_on"],
        "type": certificate.kind.value,
        "programme": snapshot["programme"]["name"],
        "issuer": snapshot["issuer"],
    }


def claim(
    *,
    run: CourseRun,
    person: Person,
    kind: CertificateKind,
    language: CertificateLanguage,
    by: User | None,
    now: datetime,
    run_part: dict | None = None,
    replaces: Certificate | None = None,
) -> Certificate:
    """Fix a certificate's number, code, snapshot and signature; pending until rendered.

    Raises IntegrityError (at flush) when the learner already has a current certificate of
    the run: callers that race use a savepoint (see claim_due_certificates).
    """
    issued_on = local_today(now)
    key = signing.private_key()
    key_id = signing.key_id(key.public_key())
    number = numbering.allocate_number(issued_on.year)
    code = numbering.new_code()
    snapshot = {
        **(run_part or run_snapshot(run, language)),
        "name": person.full_name,
        "kind": kind.value,
        "language": language.value,
        "issued_on": issued_on.isoformat(),
        "verify_url": verify_url(code),
    }
    certificate = Certificate(
        number=number,
        code=code,
        run_id=run.id,
        person_id=person.id,
        kind=kind,
        language=language,
        status=CertificateStatus.PENDING,
        snapshot=snapshot,
        key_id=key_id,
        file_name=f"{issued_on.year}/{number}.pdf",
        issued_on=issued_on,
        created_at=now,
        requested_by_id=by.id if by else None,
        replaces_id=replaces.id if replaces else None,
    )
    certificate.token = signing.sign(key, _payload(certificate, snapshot, key_id))
    db.session.add(certificate)
    db.session.flush()
    if replaces is None:  # a re-issue is audited once, as such, by reissue()
        audit.record(
            "certificate.issue",
            subject_type="certificate",
            subject_id=certificate.id,
            actor=by,
            person_id=person.id,
            run_id=run.id,
            programme_id=run.programme_id,
            after={
                "status": certificate.status,
                "number": number,
                "kind": kind,
                "language": language,
            },
        )
    return certificate


def claim_due_certificates(
    run: CourseRun, *, now: datetime | None = None, by: User | None = None
) -> list[Certificate]:
    """Claim a certificate for every learner who meets the run's rule and has none yet."""
    now = now or utcnow()
    rule = rule_for(run)
    due = [s.person_id for s in evaluate(run, now, rule) if s.due]
    if not due:
        return []
    # People whose data was erased get no new certificate: it would print no name.
    people = db.session.scalars(
        sa.select(Person).where(Person.id.in_(due), Person.erased_at.is_(None))
    ).all()
    run_part = run_snapshot(run, rule.language)
    claimed = []
    for person in sorted(people, key=lambda p: (p.last_name, p.first_name, p.id)):
        try:
            # Another worker may claim the same learner at the same moment: the partial
            # unique index refuses the second, and the savepoint gives its number back.
            with db.session.begin_nested():
                claimed.append(
                    claim(
                        run=run,
                        person=person,
                        kind=rule.kind,
                        language=rule.language,
                        by=by,
                        now=now,
                        run_part=run_part,
                    )
                )
        except IntegrityError:
            continue
    return claimed


def issue_due_certificates(
    run: CourseRun, *, now: datetime | None = None, by: User | None = None
) -> list[Certificate]:
    """Issue the certificates a run's learners have earned: call it after anything that can
    change the rule's outcome (attendance, post-test, survey). Flushes; the PDFs are made
    in the background once the caller commits."""
    now = now or utcnow()
    if local_today(now) < run.ends_on:
        return []  # cheap for the marks taken while the course runs
    claimed = claim_due_certificates(run, now=now, by=by)
    if claimed:
        _after_commit("complete_run_task", run.id)
    return claimed


@progress.on_commit
def _issue_when_progress_changed(run_ids: set[int]) -> None:
    # Marks recorded while a run is on stay cheap: issue_due_certificates returns at once.
    runs = db.session.scalars(sa.select(CourseRun).where(CourseRun.id.in_(sorted(run_ids))))
    for run in runs:
        issue_due_certificates(run)


def save_rule(
    run: CourseRun,
    *,
    kind: CertificateKind,
    min_attendance: int,
    require_post_test: bool,
    require_survey: bool,
    language: CertificateLanguage,
    by: User | None,
) -> CertificateRule:
    """Set what earns a certificate in the run; certificates already issued stay as they are."""
    if not 0 <= min_attendance <= 100:
        raise DomainError(
            _("Give the minimum attendance as a percentage from 0 to 100."),
            field="min_attendance",
        )
    rule = saved_rule(run.id)
    if rule is None:
        rule = CertificateRule(run_id=run.id)
        db.session.add(rule)
    rule.kind = kind
    rule.min_attendance = min_attendance
    rule.require_post_test = require_post_test
    rule.require_survey = require_survey
    rule.language = language
    rule.updated_by_id = by.id if by else None
    db.session.flush()
    progress.changed(run.id)  # a gentler rule can make learners due
    return rule


def record(
    certificate_id: int, kind: EventKind, *, by_id: int | None, now: datetime, note: str | None
) -> None:
    db.session.add(
        CertificateEvent(
            certificate_id=certificate_id,
            kind=kind,
            user_id=by_id,
            at=now,
            note=note[:MAX_REASON] if note else None,
        )
    )


def record_downloads(
    certificate_ids: list[int], *, by_id: int, note: str | None = None, now: datetime | None = None
) -> None:
    """One audit row per certificate downloaded (alone, or inside a bundle)."""
    now = now or utcnow()
    if certificate_ids:
        db.session.execute(
            sa.insert(CertificateEvent),
            [
                {
                    "certificate_id": cid,
                    "kind": EventKind.DOWNLOADED,
                    "user_id": by_id,
                    "at": now,
                    "note": note,
                }
                for cid in certificate_ids
            ],
        )


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why; the reason is kept with the certificate."), field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(
            _("Keep the reason under %(n)d characters.", n=MAX_REASON), field="reason"
        )
    return reason


def revoke(
    certificate: Certificate, *, by: User, reason: str, now: datetime | None = None
) -> Certificate:
    """Withdraw a certificate: verification then says revoked, with the date and the reason."""
    now = now or utcnow()
    reason = _reason(reason)
    if certificate.status == CertificateStatus.REVOKED:
        raise Conflict(_("This certificate is already revoked."))
    if certificate.status == CertificateStatus.SUPERSEDED:
        raise DomainError(
            _("This certificate was replaced by a re-issued one: revoke the new one instead.")
        )
    if certificate.status == CertificateStatus.PENDING:
        raise DomainError(_("This certificate is still being prepared; try again in a minute."))
    audit.record(
        "certificate.revoke",
        subject_type="certificate",
        subject_id=certificate.id,
        actor=by,
        person_id=certificate.person_id,
        run_id=certificate.run_id,
        before={"status": certificate.status},
        after={"status": CertificateStatus.REVOKED},
    )  # the reason is typed text about a person: it stays with the certificate, not here
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = now
    certificate.revoked_by_id = by.id
    certificate.revoked_reason = reason
    record(certificate.id, EventKind.REVOKED, by_id=by.id, now=now, note=reason)
    db.session.flush()
    return certificate


def reissue(
    certificate: Certificate, *, by: User, reason: str, now: datetime | None = None
) -> Certificate:
    """Replace a valid certificate with a new one from the learner's profile as it is now
    (e.g. after a name correction); the old one shows superseded and points nowhere."""
    now = now or utcnow()
    reason = _reason(reason)
    if certificate.status != CertificateStatus.VALID:
        raise DomainError(
            _(
                "Only a valid certificate can be re-issued; this one is %(status)s.",
                status=certificate.status_label.lower(),
            )
        )
    certificate.status = CertificateStatus.SUPERSEDED
    certificate.superseded_at = now
    record(certificate.id, EventKind.SUPERSEDED, by_id=by.id, now=now, note=reason)
    db.session.flush()  # before the claim: the unique index allows one current certificate
    new = claim(
        run=certificate.run,
        person=certificate.person,
        kind=certificate.kind,
        language=certificate.language,
        by=by,
        now=now,
        replaces=certificate,
    )
    record(new.id, EventKind.REISSUED, by_id=by.id, now=now, note=reason)
    audit.record(
        "certificate.reissue",
        subject_type="certificate",
        subject_id=certificate.id,
        actor=by,
        person_id=certificate.person_id,
        run_id=certificate.run_id,
        before={"status": CertificateStatus.VALID, "number": certificate.number},
        after={
            "status": certificate.status,
            "replaced_by": new.id,
            "number": new.number,
        },
    )
    _after_commit("complete_run_task", certificate.run_id)
    return new


def start_job(
    run: CourseRun, *, by: User | None, output_format: JobFormat, now: datetime | None = None
) -> tuple[CertificateJob, bool]:
    """Queue the bulk issuance of a run; (job, False) when one is already under way."""
    running = db.session.scalar(
        sa.select(CertificateJob)
        .where(
            CertificateJob.run_id == run.id,
            CertificateJob.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
        )
        .order_by(CertificateJob.id.desc())
        .limit(1)
    )
    if running is not None:
        return running, False
    now = now or utcnow()
    issued = db.session.scalar(
        sa.select(sa.func.count(Certificate.id)).where(
            Certificate.run_id == run.id,
            Certificate.status.in_((CertificateStatus.PENDING, CertificateStatus.VALID)),
        )
    )
    if not issued and not any(s.due for s in evaluate(run, now)):
        raise DomainError(
            _("Nobody in this run meets the rule yet: see below what each learner is missing.")
        )
    job = CertificateJob(
        run_id=run.id,
        requested_by_id=by.id if by else None,
        output_format=output_format,
        status=JobStatus.QUEUED,
        created_at=now,
    )
    db.session.add(job)
    db.session.flush()
    _after_commit("run_job_task", job.id)
    return job, True
