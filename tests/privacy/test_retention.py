"""Retention: participants of programmes that ended long ago are anonymised, nobody else."""

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.auth.models import User
from app.auth.roles import Role
from app.enrollment.models import Enrollment, EnrollmentStatus
from app.extensions import db
from app.people.models import Person
from app.privacy import services
from app.privacy.models import ErasureKind, ErasureRequest
from app.privacy.retention import run_retention
from app.privacy.tasks import retention_task
from app.programmes.models import ProgrammeParticipant
from app.timeutil import utcnow
from tests.conftest import create_person, create_programme, create_run, create_user


def _years_ago(years: int) -> date:
    today = utcnow().date()
    return date(today.year - years, 6, 30)


def _take_part(programme, person, run=None):
    db.session.add(ProgrammeParticipant(programme_id=programme.id, person_id=person.id))
    if run is not None:
        db.session.add(
            Enrollment(run_id=run.id, person_id=person.id, status=EnrollmentStatus.ENROLLED)
        )


def _world():
    old = create_programme(starts_on=_years_ago(8), ends_on=_years_ago(6))
    new = create_programme(starts_on=_years_ago(2), ends_on=_years_ago(-1))
    old_run = create_run(old, starts_on=_years_ago(7), ends_on=_years_ago(7) + timedelta(days=3))
    gone = create_person(first_name="Ilirjana", last_name="Zeqiri")
    _take_part(old, gone, old_run)
    learner = create_user(Role.LEARNER, first_name="Bujar", last_name="Rama")
    _take_part(old, learner.person, old_run)
    both = create_person(first_name="Mirela", last_name="Kovačević")
    _take_part(old, both, old_run)
    _take_part(new, both)
    trainer = create_user(Role.TRAINER, programme=old, first_name="Besnik", last_name="Gashi")
    _take_part(old, trainer.person)
    never = create_person(first_name="Teuta", last_name="Berisha")  # in no programme at all
    db.session.commit()
    return gone, learner, both, trainer, never


def test_the_cutoff_counts_months_back():
    assert services.retention_cutoff(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert services.retention_cutoff(date(2026, 6, 15), 60) == date(2021, 6, 15)
    assert services.retention_cutoff(date(2026, 1, 10), 13) == date(2024, 12, 10)


def test_only_participants_of_programmes_long_over_are_anonymised(app):
    gone, learner, both, trainer, never = _world()
    due = list(db.session.scalars(services.retention_due(utcnow().date(), 60)))
    assert due == sorted([gone.id, learner.person_id])
    result = run_retention(today=utcnow().date(), months=60)
    assert sorted(result.person_ids) == sorted([gone.id, learner.person_id])
    db.session.expire_all()
    assert db.session.get(Person, gone.id).erased_at is not None
    assert db.session.get(Person, gone.id).email is None
    assert db.session.get(User, learner.id).active is False
    for kept in (both.id, trainer.person_id, never.id):
        assert db.session.get(Person, kept).erased_at is None
    assert db.session.get(Person, both.id).last_name == "Kovačević"
    requests = db.session.scalars(sa.select(ErasureRequest)).all()
    assert {r.kind for r in requests} == {ErasureKind.RETENTION}
    assert all(r.requested_by_id is None for r in requests)
    # Run again: nothing is due any more.
    assert run_retention(today=utcnow().date(), months=60).person_ids == []


def test_a_longer_period_keeps_them(app):
    gone, *_ = _world()
    assert run_retention(today=utcnow().date(), months=12 * 7).person_ids == []
    assert db.session.get(Person, gone.id).erased_at is None


def test_the_setting_gives_the_default_period(app):
    assert app.config["RETENTION_MONTHS_AFTER_PROGRAMME"] == 60
    gone, *_ = _world()
    app.config["RETENTION_MONTHS_AFTER_PROGRAMME"] = 12 * 7
    try:
        assert run_retention(today=utcnow().date(), dry_run=True).person_ids == []
    finally:
        app.config["RETENTION_MONTHS_AFTER_PROGRAMME"] = 60
    assert run_retention(today=utcnow().date(), dry_run=True).person_ids != []


def test_the_command_dry_run_changes_nothing(app, runner):
    gone, learner, *_ = _world()
    result = runner.invoke(args=["privacy", "retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would anonymise 2 people" in result.output and f"#{gone.id}" in result.output
    assert "Zeqiri" not in result.output  # ids only: the output may end up in logs
    db.session.expire_all()
    assert db.session.get(Person, gone.id).erased_at is None
    result = runner.invoke(args=["privacy", "retention"])
    assert result.exit_code == 0, result.output
    assert "Anonymised 2 people" in result.output
    db.session.expire_all()
    assert db.session.get(Person, gone.id).erased_at is not None
    assert runner.invoke(args=["privacy", "retention", "--months", "0"]).exit_code != 0


def test_the_daily_task_runs_it(app):
    gone, *_ = _world()
    # Registered with the consumer's Huey as a daily periodic task at 03:41.
    due = {t.name for t in retention_task.huey.read_periodic(datetime(2026, 5, 4, 3, 41))}
    later = {t.name for t in retention_task.huey.read_periodic(datetime(2026, 5, 4, 4, 41))}
    assert "retention_task" in due and "retention_task" not in later
    result = retention_task.call_local()
    assert result == 2
    db.session.expire_all()
    assert db.session.get(Person, gone.id).erased_at is not None
