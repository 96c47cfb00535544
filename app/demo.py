"""Realistic demonstration data: two programmes, people across municipalities, course runs.

Idempotent: running it again changes nothing that is already there.
"""

import contextlib
import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from app.attendance.models import AttendanceStatus, Channel
from app.attendance.services import (
    enrolled_person_ids,
    record_mark,
    schedule_series,
    schedule_session,
)
from app.auth import passwords
from app.auth.models import User, UserRole
from app.auth.roles import Role
from app.courses.curriculum import load_curriculum, sync_curriculum
from app.courses.models import Course, CourseRun, CourseRunTrainer
from app.enrollment.models import EnrollmentSource
from app.enrollment.services import enrol
from app.extensions import db
from app.people.models import Institution, InstitutionType, Person, Sex, TargetGroup
from app.places.models import Municipality
from app.places.services import seed_places
from app.programmes.models import Programme, ProgrammeMember, ReportingPeriod
from app.timeutil import utcnow

# Known on purpose: these accounts exist only in demo databases.
DEMO_PASSWORD = "akademia-demo-2026"  # noqa: S105 - demo data only

STAFF = [
    (Role.ADMIN, "admin@akademia.test", "Drita", "Berisha", Sex.FEMALE),
    (Role.MANAGER, "manager@akademia.test", "Besnik", "Gashi", Sex.MALE),
    (Role.TRAINER, "trainer@akademia.test", "Jelena", "Đorđević", Sex.FEMALE),
    (Role.LEARNER, "learner@akademia.test", "Ardiana", "Hoxha", Sex.FEMALE),
]
FIRST_F = [
    "Arbëresha",
    "Blerta",
    "Fjolla",
    "Qëndresa",
    "Vjosa",
    "Mimoza",
    "Teuta",
    "Ajshe",
    "Milica",
    "Snežana",
    "Dragana",
    "Ivana",
    "Ljiljana",
    "Aferdita",
    "Shqipe",
    "Elmaze",
]
FIRST_M = [
    "Agon",
    "Driton",
    "Fatmir",
    "Ilir",
    "Çlirim",
    "Shpëtim",
    "Valon",
    "Lulzim",
    "Miloš",
    "Nenad",
    "Đorđe",
    "Stefan",
    "Dušan",
    "Bekim",
    "Gëzim",
    "Erolld",
]
LAST = [
    "Krasniqi",
    "Gashi",
    "Berisha",
    "Morina",
    "Shala",
    "Hoxha",
    "Kelmendi",
    "Bytyçi",
    "Rexhepi",
    "Zeqiri",
    "Jovanović",
    "Petrović",
    "Nikolić",
    "Stojanović",
    "Ćirić",
    "Živković",
    "Hajdari",
    "Dreshaj",
    "Llapashtica",
    "Çeku",
]
POSITIONS = [
    "Officer for civil registry",
    "IT officer",
    "Communication officer",
    "Procurement officer",
    "Head of sector",
    "Legal officer",
    "Archivist",
]
DIRECTORATES = [
    "Directorate of Administration",
    "Directorate of Finance",
    "Directorate of Education",
    "Directorate of Urbanism",
    "Office of the Mayor",
]


def load_demo() -> list[tuple[str, str]]:
    rng = random.Random(2026)  # noqa: S311 - repeatable demo data, not security
    seed_places()
    root = Path(current_app.config["CURRICULUM_DIR"])
    sync_curriculum(load_curriculum(root))
    logins = [(role.label, email) for role, email, *_ in STAFF]
    if db.session.scalar(sa.select(Programme.id).where(Programme.code == "DL-KS-26")):
        return logins
    municipalities = {m.code: m for m in db.session.scalars(sa.select(Municipality))}
    staff = {
        role: _staff_user(role, email, first, last, sex, municipalities["prishtine"])
        for role, email, first, last, sex in STAFF
    }
    main = _programme(
        "DL-KS-26",
        "Digital Kosovo: skills for municipalities",
        "Open Balkans Foundation",
        "OBF-2026-017",
        date(2026, 1, 1),
        date(2027, 12, 31),
        [
            ("2026 H1", date(2026, 1, 1), date(2026, 6, 30)),
            ("2026 H2", date(2026, 7, 1), date(2026, 12, 31)),
            ("2027 H1", date(2027, 1, 1), date(2027, 6, 30)),
            ("2027 H2", date(2027, 7, 1), date(2027, 12, 31)),
        ],
    )
    youth = _programme(
        "YD-WB-26",
        "Youth and digital citizenship",
        "Regional Democracy Fund",
        "RDF-WB-2026-04",
        date(2026, 3, 1),
        date(2027, 2, 28),
        [("Year 1", date(2026, 3, 1), date(2027, 2, 28))],
    )
    _member(main, staff[Role.MANAGER], Role.MANAGER)
    _member(main, staff[Role.TRAINER], Role.TRAINER)
    _member(youth, staff[Role.TRAINER], Role.TRAINER)
    db.session.flush()

    people = _people(rng, municipalities)
    courses = {c.slug: c for c in db.session.scalars(sa.select(Course))}
    now = utcnow()
    runs = []
    plan = [
        (main, "e-kosova-services", "prishtine", "Municipal Assembly hall", 20, 21, 25),
        (
            main,
            "cyber-hygiene-public-servants",
            "gjakove",
            "Youth Centre, training room 2",
            25,
            14,
            18,
        ),
        (main, "open-data-publishing", "prizren", "Municipal building, floor 3", 40, 16, 16),
        (main, "digital-communication-citizens", "mitrovice-veriut", "Community hall", 48, 15, 10),
        (main, "cyber-hygiene-public-servants", "ferizaj", "Cultural centre", -30, 18, 15),
        (
            youth,
            "digital-communication-citizens",
            "gjilan",
            "University of Gjilan, room A4",
            30,
            24,
            12,
        ),
    ]
    for programme, slug, code, venue, in_days, capacity, enrolled in plan:
        run = _run(
            programme,
            courses[slug],
            municipalities[code],
            venue,
            in_days,
            capacity,
            staff[Role.TRAINER],
        )
        runs.append((run, enrolled))
    db.session.flush()
    for run, count in runs:
        # People enrolled before the run began, so past sessions count for them.
        enrolled_on = min(
            now, datetime.combine(run.starts_on, datetime.min.time()) - timedelta(days=10)
        )
        for person in rng.sample(people, k=min(count, len(people))):
            _enrol_quietly(run, person, enrolled_on)
    learner = staff[Role.LEARNER]
    _enrol_quietly(runs[0][0], learner.person, now - timedelta(days=1))
    db.session.flush()
    _sessions_and_marks(rng, [run for run, _count in runs], staff[Role.TRAINER], now)
    return logins


def _local(day: date, hour: int) -> datetime:
    """A Europe/Belgrade wall-clock time as the naive UTC the database keeps."""
    local = datetime.combine(day, time(hour)).replace(tzinfo=ZoneInfo("Europe/Belgrade"))
    return local.astimezone(UTC).replace(tzinfo=None)


def _sessions_and_marks(rng, runs, trainer, now) -> None:
    """Five morning sessions per run; past ones carry realistic marks."""
    statuses = [AttendanceStatus.PRESENT] * 8 + [
        AttendanceStatus.LATE,
        AttendanceStatus.ABSENT,
        AttendanceStatus.EXCUSED,
    ]
    for run in runs:
        start = _local(run.starts_on, 9)
        sessions = schedule_series(
            run=run,
            first_starts_at=start,
            first_ends_at=start + timedelta(hours=4),
            count=5,
            every_days=1,
            venue=run.venue,
            municipality_id=run.municipality_id,
            trainer_id=trainer.id,
        )
        learners = sorted(enrolled_person_ids(run.id))
        # A few learners who drop out make the follow-up list worth looking at.
        dropouts = set(learners[:2])
        for index, session in enumerate(s for s in sessions if s.ends_at < now):
            for person_id in learners:
                status = (
                    AttendanceStatus.ABSENT
                    if person_id in dropouts and index > 1
                    else rng.choice(statuses)
                )
                record_mark(
                    session=session,
                    person_id=person_id,
                    status=status,
                    remark=None,
                    marked_at=session.starts_at + timedelta(minutes=10),
                    by=trainer,
                    channel=Channel.ROLL_CALL,
                    now=now,
                )
    # A session running today, so QR check-in and roll-call can be tried at once.
    today = _local(now.date(), 0)
    first = runs[0]
    schedule_session(
        run=first,
        starts_at=max(now - timedelta(minutes=30), today),
        ends_at=now + timedelta(hours=3),
        venue=first.venue,
        municipality_id=first.municipality_id,
        trainer_id=trainer.id,
    )


def _staff_user(role, email, first, last, sex, municipality) -> User:
    user = db.session.scalar(sa.select(User).join(User.person).where(Person.email == email))
    if user:
        return user
    person = Person(
        first_name=first,
        last_name=last,
        email=email,
        sex=sex,
        birth_year=1986,
        municipality=municipality,
        target_group=TargetGroup.OTHER,
    )
    user = User(
        person=person,
        password_hash=passwords.hash_password(DEMO_PASSWORD),
        email_confirmed_at=utcnow(),
        locale="sq" if role == Role.LEARNER else None,
    )
    user.role_rows.append(UserRole(role=role))
    if role != Role.LEARNER:
        user.role_rows.append(UserRole(role=Role.LEARNER))
    db.session.add(user)
    db.session.flush()
    return user


def _programme(code, name, donor, grant, starts_on, ends_on, periods) -> Programme:
    programme = db.session.scalar(sa.select(Programme).where(Programme.code == code))
    if programme:
        return programme
    programme = Programme(
        code=code,
        name=name,
        donor=donor,
        grant_code=grant,
        starts_on=starts_on,
        ends_on=ends_on,
        attendance_threshold=80,
        description="Demonstration programme.",
    )
    for period_name, start, end in periods:
        programme.periods.append(ReportingPeriod(name=period_name, starts_on=start, ends_on=end))
    db.session.add(programme)
    db.session.flush()
    return programme


def _member(programme, user, role) -> None:
    exists = db.session.scalar(
        sa.select(ProgrammeMember.id).where(
            ProgrammeMember.programme_id == programme.id,
            ProgrammeMember.user_id == user.id,
            ProgrammeMember.role == role,
        )
    )
    if not exists:
        db.session.add(ProgrammeMember(programme=programme, user=user, role=role))


def _people(rng, municipalities) -> list[Person]:
    existing = list(
        db.session.scalars(sa.select(Person).where(Person.email.like("%@komuna-demo.test")))
    )
    if existing:
        return existing
    codes = sorted(municipalities)
    institutions = {}
    people = []
    for n in range(120):
        sex = Sex.FEMALE if n % 2 == 0 else (Sex.MALE if n % 11 else Sex.UNDISCLOSED)
        first = rng.choice(FIRST_F if sex == Sex.FEMALE else FIRST_M)
        last = rng.choice(LAST)
        municipality = municipalities[rng.choice(codes)]
        student = n % 5 == 0
        if student:
            key = ("university", municipality.region_id)
            name = f"University in {municipality.region.name_en}"
            itype = InstitutionType.UNIVERSITY
        else:
            key = ("municipality", municipality.id)
            name = f"Municipality of {municipality.name_en}"
            itype = InstitutionType.MUNICIPALITY
        if key not in institutions:
            institutions[key] = Institution(name=name, type=itype, municipality=municipality)
        person = Person(
            first_name=first,
            last_name=last,
            email=f"p{n:03d}@komuna-demo.test",
            sex=sex,
            birth_year=rng.randint(1962, 2004) if not student else rng.randint(2000, 2007),
            municipality=municipality,
            institution=institutions[key],
            position=None if student else rng.choice(POSITIONS),
            department="Faculty of Computer Science" if student else rng.choice(DIRECTORATES),
            target_group=TargetGroup.STUDENT if student else TargetGroup.MUNICIPAL_OFFICIAL,
            consent_photos=n % 3 != 0,
            consent_public_name=n % 4 == 0,
        )
        db.session.add(person)
        people.append(person)
    db.session.flush()
    return people


def _run(programme, course, municipality, venue, in_days, capacity, trainer) -> CourseRun:
    run = db.session.scalar(
        sa.select(CourseRun).where(
            CourseRun.programme_id == programme.id,
            CourseRun.course_id == course.id,
            CourseRun.municipality_id == municipality.id,
        )
    )
    if run:
        return run
    today = date.today()
    starts = today + timedelta(days=in_days)
    run = CourseRun(
        programme=programme,
        course=course,
        municipality=municipality,
        venue=venue,
        starts_on=max(starts, programme.starts_on),
        ends_on=max(starts + timedelta(days=4), programme.starts_on),
        language="sq" if municipality.code != "mitrovice-veriut" else "sr_Latn",
        capacity=capacity,
        enrol_opens_at=datetime.combine(today - timedelta(days=60), datetime.min.time()),
        enrol_closes_at=datetime.combine(starts - timedelta(days=1), datetime.min.time()),
    )
    run.trainer_rows.append(CourseRunTrainer(user=trainer))
    db.session.add(run)
    return run


def _enrol_quietly(run, person, now) -> None:
    from app.enrollment.queries import enrollment_for
    from app.errors import DomainError

    if person.id and enrollment_for(run.id, person.id):
        return
    with contextlib.suppress(DomainError):
        enrol(run=run, person=person, by=None, source=EnrollmentSource.MANAGER, now=now)
