"""Every place Akademia keeps data about a person: the one list that export and erasure use.

A table that refers to a person or to a user account is either a SOURCE (rows about the
person: exported, and erased or kept anonymised by services.erase_person) or an ACTOR
reference (the account acted on someone else's data: counted in the export, and kept, since
the account row stays as an anonymised shell). tests/privacy/test_sources.py fails when a
foreign key to person.id or user.id is in neither list, so a new table cannot be forgotten.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.activities.models import Activity, ActivityParticipant
from app.attendance.models import Attendance, AttendanceMark, CourseSession, Notification
from app.auth.models import LoginFailure, RecoveryCode, User, UserRole, UserSession
from app.certificates.models import (
    Certificate,
    CertificateEvent,
    CertificateJob,
    CertificateRule,
)
from app.courses.models import Course, CourseRun, CourseRunTrainer
from app.enrollment.models import Enrollment
from app.observatory.models import MilestoneAssessment, MunicipalIndicator, RecommendationUptake
from app.people.models import Institution, Person
from app.places.models import Municipality
from app.programmes.models import Programme, ProgrammeMember, ProgrammeParticipant
from app.quizzes.models import Attempt, AttemptSlot, Question, Quiz
from app.reports.models import ManualValue, ReportExport, ReportSnapshot
from app.surveys.models import Survey, SurveyInvitation, SurveyResponse

from .models import ErasureRequest

PERSON, USER, EMAIL = "person", "user", "email"


@dataclass(frozen=True)
class Field:
    key: str  # the JSON key
    label: object  # lazy string: the PDF's column heading
    column: sa.ColumnElement


@dataclass(frozen=True)
class Source:
    """Rows about the person, found through `subject` (== the person id, user id or e-mail key)."""

    key: str
    title: object  # lazy string
    subject: sa.ColumnElement
    by: str  # PERSON, USER or EMAIL: what `subject` is compared with
    fields: tuple[Field, ...]
    # (entity, onclause) outer-joined for readable context (course titles, dates).
    joins: tuple[tuple[object, sa.ColumnElement], ...] = ()
    order_by: tuple[sa.ColumnElement, ...] = ()
    base: object | None = None  # the FROM entity when it is not subject's table

    def query(self, value) -> sa.Select:
        select = sa.select(*(f.column.label(f.key) for f in self.fields)).select_from(
            self.base if self.base is not None else self.subject.table
        )
        for entity, onclause in self.joins:
            select = select.outerjoin(entity, onclause)
        return select.where(self.subject == value).order_by(*self.order_by)


def _f(key: str, label, column) -> Field:
    return Field(key, label, column)


_RUN = (
    (CourseRun, CourseRun.id == Enrollment.run_id),
    (Course, Course.id == CourseRun.course_id),
)

SOURCES: tuple[Source, ...] = (
    Source(
        key="person",
        title=_l("Personal details"),
        subject=Person.id,
        by=PERSON,
        fields=(
            _f("first_name", _l("First name"), Person.first_name),
            _f("last_name", _l("Last name"), Person.last_name),
            _f("email", _l("E-mail"), Person.email),
            _f("phone", _l("Phone"), Person.phone),
            _f("sex", _l("Sex"), Person.sex),
            _f("birth_year", _l("Birth year"), Person.birth_year),
            _f("age_band", _l("Age group"), Person.age_band),
            _f("municipality", _l("Municipality"), Municipality.name_sq),
            _f("institution", _l("Institution"), Institution.name),
            _f("position", _l("Position"), Person.position),
            _f("department", _l("Department"), Person.department),
            _f("target_group", _l("Target group"), Person.target_group),
            _f("consent_photos", _l("Photos may be published"), Person.consent_photos),
            _f(
                "consent_public_name",
                _l("Name may appear in public reports"),
                Person.consent_public_name,
            ),
            _f("created_at", _l("Recorded on"), Person.created_at),
            _f("updated_at", _l("Last changed"), Person.updated_at),
            _f("erased_at", _l("Erased on"), Person.erased_at),
        ),
        joins=(
            (Municipality, Municipality.id == Person.municipality_id),
            (Institution, Institution.id == Person.institution_id),
        ),
    ),
    Source(
        key="account",
        title=_l("Account"),
        subject=User.person_id,
        by=PERSON,
        fields=(
            _f("account_id", _l("Account number"), User.id),
            _f("language", _l("Language"), User.locale),
            _f("active", _l("Active"), User.active),
            # Never the hash itself: it is a secret, not information about the person.
            _f("password_set", _l("Password set"), User.password_hash.is_not(None)),
            _f("email_confirmed_at", _l("E-mail confirmed on"), User.email_confirmed_at),
            _f("created_at", _l("Created on"), User.created_at),
            _f("last_login_at", _l("Last sign-in"), User.last_login_at),
        ),
    ),
    Source(
        key="roles",
        title=_l("Roles"),
        subject=UserRole.user_id,
        by=USER,
        fields=(_f("role", _l("Role"), UserRole.role),),
        order_by=(UserRole.role,),
    ),
    Source(
        key="sessions",
        title=_l("Signed-in browsers"),
        subject=UserSession.user_id,
        by=USER,
        fields=(
            _f("created_at", _l("Signed in"), UserSession.created_at),
            _f("last_seen_at", _l("Last seen"), UserSession.last_seen_at),
            _f("ip_address", _l("IP address"), UserSession.ip_address),
            _f("user_agent", _l("Browser"), UserSession.user_agent),
        ),
        order_by=(UserSession.created_at,),
    ),
    Source(
        key="recovery_codes",
        title=_l("Two-step sign-in recovery codes"),
        subject=RecoveryCode.user_id,
        by=USER,
        # Only when each was made and used: the codes themselves are kept as hashes alone.
        fields=(
            _f("created_at", _l("Made"), RecoveryCode.created_at),
            _f("used_at", _l("Used"), RecoveryCode.used_at),
        ),
        order_by=(RecoveryCode.created_at,),
    ),
    Source(
        key="failed_sign_ins",
        title=_l("Failed sign-ins"),
        subject=LoginFailure.email_key,
        by=EMAIL,
        fields=(
            _f("at", _l("Time"), LoginFailure.at),
            _f("ip_address", _l("IP address"), LoginFailure.ip_address),
        ),
        order_by=(LoginFailure.at,),
    ),
    Source(
        key="programme_staff",
        title=_l("Programmes you work in"),
        subject=ProgrammeMember.user_id,
        by=USER,
        fields=(
            _f("programme", _l("Programme"), Programme.name),
            _f("role", _l("Role"), ProgrammeMember.role),
        ),
        joins=((Programme, Programme.id == ProgrammeMember.programme_id),),
        order_by=(Programme.code,),
    ),
    Source(
        key="programmes",
        title=_l("Programmes you take part in"),
        subject=ProgrammeParticipant.person_id,
        by=PERSON,
        fields=(
            _f("programme", _l("Programme"), Programme.name),
            _f("donor", _l("Donor"), Programme.donor),
            _f("added_at", _l("Since"), ProgrammeParticipant.added_at),
        ),
        joins=((Programme, Programme.id == ProgrammeParticipant.programme_id),),
        order_by=(Programme.code,),
    ),
    Source(
        key="enrolments",
        title=_l("Course enrolments"),
        subject=Enrollment.person_id,
        by=PERSON,
        fields=(
            _f("course", _l("Course"), Course.title_en),
            _f("starts_on", _l("Starts"), CourseRun.starts_on),
            _f("ends_on", _l("Ends"), CourseRun.ends_on),
            _f("status", _l("Status"), Enrollment.status),
            _f("source", _l("How"), Enrollment.source),
            _f("requested_at", _l("Requested on"), Enrollment.requested_at),
            _f("enrolled_at", _l("Enrolled on"), Enrollment.enrolled_at),
        ),
        joins=_RUN,
        order_by=(CourseRun.starts_on, Enrollment.id),
    ),
    Source(
        key="attendance",
        title=_l("Attendance"),
        subject=Attendance.person_id,
        by=PERSON,
        fields=(
            _f("course", _l("Course"), Course.title_en),
            _f("session_starts_at", _l("Session"), CourseSession.starts_at),
            _f("status", _l("Status"), Attendance.status),
            _f("remark", _l("Remark"), Attendance.remark),
            _f("marked_at", _l("Marked at"), Attendance.marked_at),
            _f("channel", _l("How"), Attendance.channel),
        ),
        joins=(
            (CourseSession, CourseSession.id == Attendance.session_id),
            (CourseRun, CourseRun.id == CourseSession.run_id),
            (Course, Course.id == CourseRun.course_id),
        ),
        order_by=(CourseSession.starts_at, Attendance.id),
    ),
    Source(
        key="attendance_history",
        title=_l("Attendance marks received"),
        subject=AttendanceMark.person_id,
        by=PERSON,
        fields=(
            _f("session_starts_at", _l("Session"), CourseSession.starts_at),
            _f("status", _l("Status"), AttendanceMark.status),
            _f("remark", _l("Remark"), AttendanceMark.remark),
            _f("marked_at", _l("Marked at"), AttendanceMark.marked_at),
            _f("channel", _l("How"), AttendanceMark.channel),
            _f("applied", _l("Applied"), AttendanceMark.applied),
        ),
        joins=((CourseSession, CourseSession.id == AttendanceMark.session_id),),
        order_by=(AttendanceMark.marked_at, AttendanceMark.id),
    ),
    Source(
        key="notifications",
        title=_l("Notifications"),
        subject=Notification.person_id,
        by=PERSON,
        fields=(
            _f("message", _l("Message"), Notification.message),
            _f("created_at", _l("Sent"), Notification.created_at),
            _f("read_at", _l("Read"), Notification.read_at),
        ),
        order_by=(Notification.created_at,),
    ),
    Source(
        key="activities",
        title=_l("Activities"),
        subject=ActivityParticipant.person_id,
        by=PERSON,
        fields=(
            _f("activity", _l("Activity"), Activity.title),
            _f("starts_at", _l("Date"), Activity.starts_at),
            _f(
                "registered_in_advance",
                _l("Registered in advance"),
                ActivityParticipant.registered_in_advance,
            ),
            _f("attended", _l("Attended"), ActivityParticipant.attended),
        ),
        joins=((Activity, Activity.id == ActivityParticipant.activity_id),),
        order_by=(Activity.starts_at, ActivityParticipant.id),
    ),
    Source(
        key="quiz_attempts",
        title=_l("Quiz attempts"),
        subject=Attempt.person_id,
        by=PERSON,
        fields=(
            _f("attempt_id", _l("Attempt"), Attempt.id),
            _f("quiz", _l("Quiz"), Quiz.title),
            _f("number", _l("Number"), Attempt.number),
            _f("state", _l("Status"), Attempt.state),
            _f("started_at", _l("Started"), Attempt.started_at),
            _f("finished_at", _l("Finished"), Attempt.finished_at),
            _f("score", _l("Score"), Attempt.score),
            _f("max_score", _l("Out of"), Attempt.max_score),
            _f("passed", _l("Passed"), Attempt.passed),
        ),
        joins=((Quiz, Quiz.id == Attempt.quiz_id),),
        order_by=(Attempt.started_at, Attempt.id),
    ),
    Source(
        key="quiz_answers",
        title=_l("Quiz answers"),
        subject=Attempt.person_id,
        by=PERSON,
        base=AttemptSlot,
        fields=(
            _f("attempt_id", _l("Attempt"), AttemptSlot.attempt_id),
            _f("position", _l("Question"), AttemptSlot.position),
            _f("question", _l("Question text"), Question.text_en),
            _f("answer", _l("Answer"), AttemptSlot.response),
            _f("score", _l("Score"), AttemptSlot.score),
            _f("points", _l("Out of"), AttemptSlot.points),
        ),
        joins=(
            (Attempt, Attempt.id == AttemptSlot.attempt_id),
            (Question, Question.id == AttemptSlot.question_id),
        ),
        order_by=(AttemptSlot.attempt_id, AttemptSlot.position),
    ),
    Source(
        key="certificates",
        title=_l("Certificates"),
        subject=Certificate.person_id,
        by=PERSON,
        fields=(
            _f("number", _l("Number"), Certificate.number),
            _f("verification_code", _l("Verification code"), Certificate.code),
            _f("course", _l("Course"), Course.title_en),
            _f("kind", _l("Kind"), Certificate.kind),
            _f("status", _l("Status"), Certificate.status),
            _f("issued_on", _l("Issued on"), Certificate.issued_on),
            _f("revoked_at", _l("Revoked on"), Certificate.revoked_at),
            _f("revoked_reason", _l("Reason"), Certificate.revoked_reason),
            _f("erased_at", _l("Erased on"), Certificate.erased_at),
        ),
        joins=(
            (CourseRun, CourseRun.id == Certificate.run_id),
            (Course, Course.id == CourseRun.course_id),
        ),
        order_by=(Certificate.issued_on, Certificate.id),
    ),
    Source(
        key="survey_invitations",
        title=_l("Survey invitations"),
        subject=SurveyInvitation.person_id,
        by=PERSON,
        fields=(
            _f("course", _l("Course"), Course.title_en),
            _f("survey", _l("Survey"), Survey.kind),
            _f("invited_at", _l("Invited on"), SurveyInvitation.created_at),
            _f("emailed", _l("E-mailed"), SurveyInvitation.emailed),
            _f("responded", _l("Answered"), SurveyInvitation.responded),
        ),
        joins=(
            (Survey, Survey.id == SurveyInvitation.survey_id),
            (CourseRun, CourseRun.id == Survey.run_id),
            (Course, Course.id == CourseRun.course_id),
        ),
        order_by=(SurveyInvitation.created_at, SurveyInvitation.id),
    ),
    # Anonymous answers carry no person (by design) and cannot be found, shown or erased.
    Source(
        key="survey_responses",
        title=_l("Survey answers you signed"),
        subject=SurveyResponse.person_id,
        by=PERSON,
        fields=(
            _f("course", _l("Course"), Course.title_en),
            _f("survey", _l("Survey"), Survey.kind),
            _f("submitted_on", _l("Answered on"), SurveyResponse.submitted_on),
            _f("overall", _l("Overall"), SurveyResponse.overall),
            _f("relevance", _l("Relevance"), SurveyResponse.relevance),
            _f("trainer", _l("Trainer"), SurveyResponse.trainer),
            _f("applied", _l("Applied"), SurveyResponse.applied),
            _f("how_applied", _l("How you applied it"), SurveyResponse.how_applied),
            _f("comment", _l("Comment"), SurveyResponse.comment),
        ),
        joins=(
            (Survey, Survey.id == SurveyResponse.survey_id),
            (CourseRun, CourseRun.id == Survey.run_id),
            (Course, Course.id == CourseRun.course_id),
        ),
        order_by=(SurveyResponse.submitted_on, SurveyResponse.id),
    ),
    Source(
        key="erasures",
        title=_l("Erasure of your data"),
        subject=ErasureRequest.person_id,
        by=PERSON,
        fields=(
            _f("erased_at", _l("Erased on"), ErasureRequest.erased_at),
            _f("kind", _l("Kind"), ErasureRequest.kind),
            _f("reason", _l("Reason"), ErasureRequest.reason),
        ),
        order_by=(ErasureRequest.erased_at,),
    ),
)


@dataclass(frozen=True)
class Actor:
    """A column that records which account did something to someone else's data."""

    column: sa.ColumnElement
    label: object  # lazy string
    # Whether erasure clears the column: only where the account, not the row, is the point.
    clear_on_erasure: bool = field(default=False)


ACTORS: tuple[Actor, ...] = (
    Actor(Enrollment.changed_by_id, _l("Enrolment decisions")),
    Actor(CourseSession.trainer_id, _l("Sessions you lead")),
    Actor(CourseRunTrainer.user_id, _l("Course runs you teach")),
    Actor(Attendance.marked_by_id, _l("Attendance marks you made")),
    Actor(AttendanceMark.marked_by_id, _l("Attendance marks you sent")),
    Actor(ActivityParticipant.added_by_id, _l("Activity participants you added")),
    Actor(CertificateRule.updated_by_id, _l("Certificate rules you changed")),
    Actor(Certificate.requested_by_id, _l("Certificates you requested")),
    Actor(Certificate.revoked_by_id, _l("Certificates you revoked")),
    Actor(CertificateEvent.user_id, _l("Certificate actions")),
    Actor(CertificateJob.requested_by_id, _l("Bulk certificate jobs")),
    Actor(Quiz.created_by_id, _l("Quizzes you created")),
    Actor(Survey.created_by_id, _l("Surveys you created")),
    Actor(ManualValue.entered_by_id, _l("Indicator values you entered")),
    Actor(ReportSnapshot.created_by_id, _l("Report snapshots you froze")),
    Actor(ReportExport.user_id, _l("Report files you downloaded")),
    Actor(MilestoneAssessment.assessor_id, _l("Milestone assessments")),
    Actor(MunicipalIndicator.updated_by_id, _l("Municipal indicator values")),
    Actor(RecommendationUptake.assessor_id, _l("Recommendation follow-ups")),
    Actor(ErasureRequest.requested_by_id, _l("Erasures you carried out")),
)


def actor_counts_query(user_id: int) -> sa.Select:
    """How many rows each actor column holds for the account: one query, whatever the count."""
    parts = [
        sa.select(sa.literal(index).label("index"), sa.func.count().label("n")).where(
            actor.column == user_id
        )
        for index, actor in enumerate(ACTORS)
    ]
    return sa.union_all(*parts)


def covered_columns() -> set[tuple[str, str]]:
    """(table, column) of every reference the lists above account for."""
    covered = {(s.subject.table.name, s.subject.name) for s in SOURCES}
    covered |= {(a.column.table.name, a.column.name) for a in ACTORS}
    return covered
