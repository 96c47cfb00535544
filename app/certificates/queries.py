"""Reads for certificate pages: each a fixed number of queries."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.auth.models import User
from app.courses.models import Course, CourseRun, CourseRunTrainer
from app.extensions import db
from app.people.models import Person

from .models import Certificate, CertificateEvent, CertificateJob, CertificateStatus
from .numbering import normalize_code


def load_run(run_id: int) -> CourseRun | None:
    return db.session.scalar(
        sa.select(CourseRun)
        .where(CourseRun.id == run_id)
        .options(
            so.joinedload(CourseRun.course).selectinload(Course.competences),
            so.joinedload(CourseRun.municipality),
            so.joinedload(CourseRun.programme),
            so.selectinload(CourseRun.trainer_rows).joinedload(CourseRunTrainer.user),
        )
    )


def load_certificate(certificate_id: int) -> Certificate | None:
    return db.session.scalar(
        sa.select(Certificate)
        .where(Certificate.id == certificate_id)
        .options(
            so.joinedload(Certificate.run).joinedload(CourseRun.course),
            so.joinedload(Certificate.run).joinedload(CourseRun.programme),
            so.joinedload(Certificate.person),
        )
    )


def by_code(code: str | None) -> Certificate | None:
    """The certificate a verification code names; None for a malformed or unknown code."""
    code = normalize_code(code)
    if code is None:
        return None
    return db.session.scalar(sa.select(Certificate).where(Certificate.code == code))


def of_person(person_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.person_id == person_id)
            .options(so.joinedload(Certificate.run).joinedload(CourseRun.course))
            .order_by(Certificate.created_at.desc(), Certificate.id.desc())
        )
    )


def of_run(run_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .join(Person, Person.id == Certificate.person_id)
            .where(Certificate.run_id == run_id)
            .options(so.contains_eager(Certificate.person))
            .order_by(Person.last_name, Person.first_name, Certificate.id)
        )
    )


def counts_of_run(run_id: int) -> dict[CertificateStatus, int]:
    rows = db.session.execute(
        sa.select(Certificate.status, sa.func.count(Certificate.id))
        .where(Certificate.run_id == run_id)
        .group_by(Certificate.status)
    )
    return {CertificateStatus(status): n for status, n in rows}


def events_of(certificate_id: int) -> list[CertificateEvent]:
    return list(
        db.session.scalars(
            sa.select(CertificateEvent)
            .where(CertificateEvent.certificate_id == certificate_id)
            .options(so.joinedload(CertificateEvent.user).joinedload(User.person))
            .order_by(CertificateEvent.at, CertificateEvent.id)
        )
    )


def replacement_of(certificate_id: int) -> Certificate | None:
    return db.session.scalar(
        sa.select(Certificate).where(Certificate.replaces_id == certificate_id)
    )


def load_job(job_id: int) -> CertificateJob | None:
    return db.session.scalar(
        sa.select(CertificateJob)
        .where(CertificateJob.id == job_id)
        .options(
            so.joinedload(CertificateJob.run).joinedload(CourseRun.course),
            so.joinedload(CertificateJob.run).joinedload(CourseRun.programme),
        )
    )


def jobs_of_run(run_id: int, limit: int = 5) -> list[CertificateJob]:
    return list(
        db.session.scalars(
            sa.select(CertificateJob)
            .where(CertificateJob.run_id == run_id)
            .order_by(CertificateJob.id.desc())
            .limit(limit)
        )
    )


def valid_ids_of_run(run_id: int) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(Certificate.id).where(
                Certificate.run_id == run_id, Certificate.status == CertificateStatus.VALID
            )
        )
    )
