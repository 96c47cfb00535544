from datetime import datetime, timedelta

from app.attendance import services
from app.enrollment.models import EnrollmentSource
from app.enrollment.services import enrol
from app.extensions import db
from tests.conftest import create_person, create_run

MANAGER = EnrollmentSource.MANAGER
NOON = datetime(2026, 12, 2, 11, 0)


def run_with_learners(n=3, **run_values):
    run = create_run(**run_values)
    people = [create_person() for _ in range(n)]
    for person in people:
        enrol(run=run, person=person, by=None, now=NOON - timedelta(days=30), source=MANAGER)
    db.session.commit()
    return run, people


def add_session(run, starts_at=NOON, hours=3):
    session = services.schedule_session(
        run=run,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        venue="Sala e Kuvendit",
        municipality_id=run.municipality_id,
        trainer_id=None,
    )
    db.session.commit()
    return session
