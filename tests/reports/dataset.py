"""A small programme whose every indicator value is computed by hand in the comments.

Period: the first quarter of 2026; the report is made on 1 June 2026; threshold 80%.

Runs (all in Prishtinë, sessions on weekdays at 09:00 local time):
- R1 ends 10 Feb: 5 sessions of 2 h. A attends 5/5 (trained), B 3/5 (60%: not trained),
  D enrolled after the second session and attends 3/3 of the sessions since (trained).
- R2 ends 20 Mar: 4 sessions of 3 h plus one cancelled. A attends 4/4 (trained again:
  still one person), C 3 present + 1 late (late counts: trained).
- R3 ends 5 May, outside the period: E attends its April session; nothing of it counts.

People: A female born 1990 (30–44), official in Prishtinë at institution X;
B male born 2004 (15–24), student in Prizren; C sex not disclosed, no birth year but band
45–64 given, no municipality, no institution; D female born 1980 (45–64), official in
Prishtinë at X; E male born 1995 (30–44), journalist at media outlet Y in Gjilan.

Hand-computed for Q1: trained 3 (A, C, D); participations 5 (R1: A B D, R2: A C);
sessions 9; training hours 22; person-hours 46 (A 10+12, B 6, D 6, C 12);
municipalities reached 1 (Prishtinë; C has none); coverage 1/38; activity participants
2 (A, E attended the TalkDigital meeting; F registered but absent); organisations 2 (X, Y);
certificates 1 (A's for R1; D's was revoked); knowledge: pairs A (40→90, passed) and D
(70→50, failed), B has only a pre-test: pass share 50, mean pre 55, post 70, gain 15;
satisfaction: A signed 5, one anonymous 3 → 50; response rate: A and B responded, D not
→ 66.67; application: one follow-up answer "partly" from A in May (outside Q1), one "no"
anonymous in March → 0.
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.activities.models import Activity, ActivityParticipant, ActivityType
from app.attendance.models import (
    Attendance,
    AttendanceStatus,
    Channel,
    CourseSession,
    SessionStatus,
)
from app.certificates.models import (
    Certificate,
    CertificateKind,
    CertificateLanguage,
    CertificateStatus,
)
from app.enrollment.models import Enrollment, EnrollmentSource, EnrollmentStatus
from app.extensions import db
from app.people.models import AgeBand, Institution, InstitutionType, Sex, TargetGroup
from app.programmes.models import ReportingPeriod
from app.quizzes.models import Attempt, AttemptState, BankSource, QuestionBank, Quiz, QuizKind
from app.surveys.models import Applied, Survey, SurveyInvitation, SurveyKind, SurveyResponse
from tests.conftest import create_course, create_person, create_programme, create_run, municipality

NOW = datetime(2026, 6, 1, 10, 0)
Q1 = (date(2026, 1, 1), date(2026, 3, 31))


@dataclass
class World:
    programme: object
    people: dict
    runs: dict
    periods: dict


def _run(programme, ends_on: date, sessions: int, hours: int, start_day: date):
    run = create_run(
        programme,
        create_course(),
        starts_on=start_day,
        ends_on=ends_on,
        municipality=municipality(),
    )
    held = []
    for i in range(sessions):
        # 09:00 in Europe/Belgrade is 08:00 UTC in winter, 07:00 UTC in summer.
        day = start_day + timedelta(days=i)
        offset = 8 if day.month < 4 else 7
        start = datetime.combine(day, datetime.min.time()) + timedelta(hours=offset)
        session = CourseSession(
            run_id=run.id,
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            venue="Sala",
            municipality_id=run.municipality_id,
        )
        db.session.add(session)
        held.append(session)
    db.session.flush()
    return run, held


def _enrol(run, person, at: datetime):
    db.session.add(
        Enrollment(
            run_id=run.id,
            person_id=person.id,
            status=EnrollmentStatus.ENROLLED,
            source=EnrollmentSource.MANAGER,
            requested_at=at,
            enrolled_at=at,
        )
    )


def _mark(session, person, status=AttendanceStatus.PRESENT):
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


def _quiz(run, kind, scores: dict):
    bank = QuestionBank(
        course_id=run.course_id, slug=f"b-{run.id}-{kind}", title_en="Bank", source=BankSource.GIFT
    )
    quiz = Quiz(
        run=run, bank=bank, kind=kind, title=str(kind), pass_mark=60, opens_at=datetime(2026, 1, 1)
    )
    db.session.add_all([bank, quiz])
    db.session.flush()
    for person, percent in scores.items():
        db.session.add(
            Attempt(
                quiz_id=quiz.id,
                person_id=person.id,
                number=1,
                state=AttemptState.SUBMITTED,
                percent=percent,
                passed=percent >= 60,
            )
        )


def build() -> World:
    programme = create_programme(
        starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), attendance_threshold=80
    )
    periods = {
        name: ReportingPeriod(programme_id=programme.id, name=name, starts_on=a, ends_on=b)
        for name, a, b in [("2026 Q1", *Q1), ("2026 Q2", date(2026, 4, 1), date(2026, 6, 30))]
    }
    db.session.add_all(periods.values())
    x = Institution(
        name="Komuna e Prishtinës", type=InstitutionType.MUNICIPALITY, municipality=municipality()
    )
    y = Institution(
        name="Koha Ditore", type=InstitutionType.MEDIA, municipality=municipality("gjilan")
    )
    db.session.add_all([x, y])
    db.session.flush()
    people = {
        "A": create_person(
            first_name="Arbëresha", last_name="Çeku", sex=Sex.FEMALE, birth_year=1990, institution=x
        ),
        "B": create_person(
            first_name="Bojan",
            last_name="Šćekić",
            sex=Sex.MALE,
            birth_year=2004,
            target_group=TargetGroup.STUDENT,
            municipality=municipality("prizren"),
        ),
        "C": create_person(
            first_name="Čedomir",
            last_name="Đurić",
            sex=Sex.UNDISCLOSED,
            birth_year=None,
            age_band=AgeBand.B45_64,
            municipality=None,
            target_group=TargetGroup.CSO,
        ),
        "D": create_person(
            first_name="Dafina", last_name="Žagar", sex=Sex.FEMALE, birth_year=1980, institution=x
        ),
        "E": create_person(
            first_name="Edon",
            last_name="Gashi",
            sex=Sex.MALE,
            birth_year=1995,
            target_group=TargetGroup.MEDIA,
            municipality=municipality("gjilan"),
            institution=y,
        ),
        "F": create_person(first_name="Fjolla", last_name="Hoti", sex=Sex.FEMALE, birth_year=1999),
    }
    A, B, C, D, E, F = (people[k] for k in "ABCDEF")
    r1, s1 = _run(programme, date(2026, 2, 10), 5, 2, date(2026, 2, 6))
    r2, s2 = _run(programme, date(2026, 3, 20), 4, 3, date(2026, 3, 17))
    r3, s3 = _run(programme, date(2026, 5, 5), 1, 2, date(2026, 4, 20))
    cancelled = CourseSession(
        run_id=r2.id,
        starts_at=datetime(2026, 3, 16, 8),
        ends_at=datetime(2026, 3, 16, 11),
        venue="Sala",
        municipality_id=r2.municipality_id,
        status=SessionStatus.CANCELLED,
    )
    db.session.add(cancelled)
    early = datetime(2026, 1, 15)
    for person in (A, B):
        _enrol(r1, person, early)
    _enrol(r1, D, s1[1].starts_at + timedelta(hours=3))  # after the second session
    for person in (A, C):
        _enrol(r2, person, early)
    _enrol(r3, E, early)
    for session in s1:
        _mark(session, A)
    for session in s1[:3]:
        _mark(session, B)
    for session in s1[3:]:
        _mark(session, B, AttendanceStatus.ABSENT)
    for session in s1[2:]:
        _mark(session, D)
    for session in s2:
        _mark(session, A)
    for session in s2[:3]:
        _mark(session, C)
    _mark(s2[3], C, AttendanceStatus.LATE)
    _mark(s3[0], E)
    _quiz(r1, QuizKind.PRE_TEST, {A: 40, B: 50, D: 70})
    _quiz(r1, QuizKind.POST_TEST, {A: 90, D: 50})
    for person, status, issued in (
        (A, CertificateStatus.VALID, datetime(2026, 2, 15, 9)),
        (D, CertificateStatus.REVOKED, datetime(2026, 2, 15, 9)),
    ):
        db.session.add(
            Certificate(
                number=f"AK-2026-{person.id:06d}",
                code=secrets.token_hex(8),
                run_id=r1.id,
                person_id=person.id,
                kind=CertificateKind.COMPLETION,
                language=CertificateLanguage.EN,
                status=status,
                snapshot={},
                token="t",
                key_id="k",
                file_name=f"{person.id}.pdf",
                issued_on=issued.date(),
                issued_at=issued,
            )
        )
    reaction = Survey(
        run=r1,
        kind=SurveyKind.REACTION,
        send_on=date(2026, 2, 10),
        sent_at=datetime(2026, 2, 10, 12),
    )
    follow_up = Survey(
        run=r1,
        kind=SurveyKind.FOLLOW_UP,
        send_on=date(2026, 3, 1),
        sent_at=datetime(2026, 3, 1, 12),
    )
    db.session.add_all([reaction, follow_up])
    db.session.flush()
    for person, responded in ((A, True), (B, True), (D, False)):
        db.session.add(
            SurveyInvitation(
                survey_id=reaction.id,
                person_id=person.id,
                token_hash=secrets.token_hex(32),
                responded=responded,
            )
        )
    db.session.add_all(
        [
            SurveyResponse(
                survey_id=reaction.id,
                submitted_on=date(2026, 2, 11),
                overall=5,
                relevance=5,
                trainer=5,
                person_id=A.id,
            ),
            SurveyResponse(
                survey_id=reaction.id,
                submitted_on=date(2026, 2, 12),
                overall=3,
                relevance=4,
                trainer=4,
            ),
            SurveyResponse(
                survey_id=follow_up.id, submitted_on=date(2026, 3, 5), applied=Applied.NO
            ),
            SurveyResponse(
                survey_id=follow_up.id,
                submitted_on=date(2026, 5, 5),
                applied=Applied.PARTLY,
                person_id=A.id,
            ),
        ]
    )
    meeting = Activity(
        programme_id=programme.id,
        type=ActivityType.TALKDIGITAL,
        title="TalkDigital: e-services",
        starts_at=datetime(2026, 3, 10, 16),
        ends_at=datetime(2026, 3, 10, 18),
        venue="Pristina Hub",
        municipality_id=municipality().id,
    )
    db.session.add(meeting)
    db.session.flush()
    for person, attended in ((A, True), (E, True), (F, False)):
        db.session.add(
            ActivityParticipant(activity_id=meeting.id, person_id=person.id, attended=attended)
        )
    db.session.commit()
    return World(
        programme=programme, people=people, runs={"R1": r1, "R2": r2, "R3": r3}, periods=periods
    )
