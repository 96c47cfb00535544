"""A course run that is over, with learners, sessions, marks and (optionally) tests and surveys."""

import io
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from pypdf import PdfReader

from app.attendance.models import Attendance, AttendanceStatus, Channel
from app.attendance.services import schedule_session
from app.auth.roles import Role
from app.certificates import pipeline
from app.courses.models import CourseCompetence, CourseRunTrainer
from app.enrollment.models import EnrollmentSource
from app.enrollment.services import enrol
from app.extensions import db
from app.people.models import Person
from app.quizzes.models import Attempt as QuizAttempt
from app.quizzes.models import AttemptState, BankSource, QuestionBank, Quiz, QuizKind
from app.surveys.models import Survey, SurveyInvitation, SurveyKind
from app.timeutil import utcnow
from tests.conftest import create_course, create_person, create_programme, create_run, create_user

NAMES = [
    ("Arbëresha", "Çeku-Đorđević"),
    ("Dragan", "Šćekić"),
    ("Vjosa", "Krasniqi Žagar"),
    ("Čedomir", "Ćirić"),
]


@dataclass
class World:
    run: object
    people: list[Person]
    trainer: object
    manager: object
    sessions: list = field(default_factory=list)


def today() -> date:
    return utcnow().date()


def finished_run(
    n: int = 3,
    *,
    sessions: int = 2,
    attended: int | None = None,
    ended_days_ago: int = 10,
    post_test: bool = False,
    survey: bool = False,
    names: list[tuple[str, str]] | None = None,
    course_values: dict | None = None,
    run_values: dict | None = None,
) -> World:
    """A run whose last session was `ended_days_ago` days ago; each learner attended
    `attended` sessions (default: all)."""
    programme = create_programme(
        starts_on=today() - timedelta(days=400), ends_on=today() + timedelta(days=400)
    )
    course = create_course(
        title_en="Open data for municipalities",
        title_sq="Të dhënat e hapura për komunat",
        title_sr="Otvoreni podaci za opštine",
        hours=12,
        **(course_values or {}),
    )
    for code in ("1.1", "4.2"):
        db.session.add(CourseCompetence(course_id=course.id, code=code))
    ends_on = today() - timedelta(days=ended_days_ago)
    starts_on = ends_on - timedelta(days=sessions - 1)
    run = create_run(
        programme,
        course,
        starts_on=starts_on,
        ends_on=ends_on,
        capacity=max(n, 1) + 5,
        **(run_values or {}),
    )
    trainer = create_user(Role.TRAINER, programme=programme, first_name="Besnik", last_name="Gashi")
    manager = create_user(Role.MANAGER, programme=programme)
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=trainer.id))
    names = names or [NAMES[i % len(NAMES)] for i in range(n)]
    people = []
    enrolled_at = datetime.combine(starts_on, time(8)) - timedelta(days=30)
    for i in range(n):
        first, last = names[i % len(names)]
        person = create_person(first_name=first, last_name=last)
        enrol(run=run, person=person, by=None, now=enrolled_at, source=EnrollmentSource.MANAGER)
        people.append(person)
    held = []
    for day in range(sessions):
        start = datetime.combine(starts_on + timedelta(days=day), time(8))
        held.append(
            schedule_session(
                run=run,
                starts_at=start,
                ends_at=start + timedelta(hours=3),
                venue="Sala",
                municipality_id=run.municipality_id,
                trainer_id=trainer.id,
            )
        )
    attended = sessions if attended is None else attended
    for person in people:
        for session in held[:attended]:
            mark(session, person)
    if post_test:
        add_post_test(run, people)
    if survey:
        add_survey(run, people)
    db.session.commit()
    return World(run=run, people=people, trainer=trainer, manager=manager, sessions=held)


def mark(session, person, status=AttendanceStatus.PRESENT):
    db.session.add(
        Attendance(
            session_id=session.id,
            person_id=person.id,
            status=status,
            marked_at=session.starts_at,
            channel=Channel.ROLL_CALL,
            client_id=secrets.token_hex(8),
        )
    )


def add_post_test(run, passers, failers=()):
    bank = QuestionBank(
        course_id=run.course_id, slug=f"bank-{run.id}", title_en="Bank", source=BankSource.GIFT
    )
    quiz = Quiz(
        run=run,
        bank=bank,
        kind=QuizKind.POST_TEST,
        title="Post-test",
        opens_at=datetime.combine(run.starts_on, time(0)),
    )
    db.session.add_all([bank, quiz])
    db.session.flush()
    for person, passed in [(p, True) for p in passers] + [(p, False) for p in failers]:
        db.session.add(
            QuizAttempt(
                quiz_id=quiz.id,
                person_id=person.id,
                number=1,
                state=AttemptState.SUBMITTED,
                percent=90.0 if passed else 20.0,
                passed=passed,
            )
        )
    db.session.flush()
    return quiz


def add_survey(run, responders, silent=()):
    survey = Survey(run=run, kind=SurveyKind.REACTION, send_on=run.ends_on, sent_at=utcnow())
    db.session.add(survey)
    db.session.flush()
    for person, responded in [(p, True) for p in responders] + [(p, False) for p in silent]:
        db.session.add(
            SurveyInvitation(
                survey_id=survey.id,
                person_id=person.id,
                token_hash=secrets.token_hex(32),
                responded=responded,
            )
        )
    db.session.flush()
    return survey


def issue_all(run) -> int:
    """Claim and complete what is due, in this process."""
    return pipeline.issue_run_now(run)


def pdf_text(data: bytes) -> str:
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def write_transaction() -> None:
    """Start this thread's next transaction with a write, so that on SQLite it waits for the
    lock instead of failing when a live server wrote since its last read (tests keep reads
    deferred, see SQLITE_IMMEDIATE_OUTSIDE_REQUESTS)."""
    import sqlalchemy as sa

    db.session.rollback()
    db.session.execute(sa.text("DELETE FROM certificate_counter WHERE 1 = 0"))
