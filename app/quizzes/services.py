"""Rules that change quizzes and attempts. Functions flush, never commit.

An attempt moves OPEN → SUBMITTED or OPEN → TIMED_OUT exactly once: the move is an
`UPDATE … WHERE state = 'open'` whose row count says whether this request won, so two
concurrent submissions (or a submission racing the timer) cannot both succeed. Saving an
answer first touches the attempt row under the same condition, which also serialises it
against a submission on PostgreSQL (row lock) and SQLite (database write lock).
"""

import contextlib
import random
import re
import secrets
from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app import audit, progress
from app.auth.models import User
from app.courses.models import Course, CourseRun
from app.errors import Conflict, DomainError
from app.extensions import db
from app.people.models import Person

from . import gift, grading
from .banks import apply_drafts
from .models import (
    FINAL_STATES,
    Attempt,
    AttemptSlot,
    AttemptState,
    BankSource,
    Question,
    QuestionBank,
    Quiz,
    QuizKind,
    ShowWhen,
)

DEFAULT_GRACE = timedelta(seconds=30)


class AttemptClosed(Conflict):
    """The attempt no longer takes answers: submitted, or its time is up."""


# --- quizzes ---------------------------------------------------------------------------------


def _check_quiz(
    *,
    quiz: Quiz | None,
    run: CourseRun,
    bank: QuestionBank,
    kind: QuizKind,
    opens_at: datetime,
    closes_at: datetime | None,
    per_competence: int | None,
) -> None:
    if bank.course_id != run.course_id:
        raise DomainError(_("Choose a question bank of this run's course."), field="bank_id")
    active = db.session.scalar(
        sa.select(sa.func.count(Question.id)).where(
            Question.bank_id == bank.id, Question.active.is_(True)
        )
    )
    if not active:
        raise DomainError(_("This question bank has no questions yet."), field="bank_id")
    if closes_at is not None and closes_at <= opens_at:
        raise DomainError(_("The quiz must close after it opens."), field="closes_at")
    if per_competence is not None and per_competence < 1:
        raise DomainError(_("Draw at least one question per competence."), field="per_competence")
    if kind == QuizKind.PRACTICE:
        return
    others = db.session.scalars(
        sa.select(Quiz).where(
            Quiz.run_id == run.id,
            Quiz.kind.in_((QuizKind.PRE_TEST, QuizKind.POST_TEST)),
            Quiz.id != (quiz.id if quiz else -1),
        )
    ).all()
    for other in others:
        if other.kind == kind:
            raise Conflict(
                _(
                    "This course run already has a %(kind)s: %(title)s.",
                    kind=other.kind_label,
                    title=other.title,
                ),
                field="kind",
            )
        if other.bank_id != bank.id:
            # The pair measures a gain only when both tests cover the same competences.
            raise DomainError(
                _("The pre-test and the post-test must draw from the same question bank."),
                field="bank_id",
            )


def create_quiz(*, run: CourseRun, bank: QuestionBank, by: User | None, **settings) -> Quiz:
    """Add a quiz to a course run; at most one pre-test and one post-test, on the same bank."""
    _check_quiz(
        quiz=None,
        run=run,
        bank=bank,
        kind=settings["kind"],
        opens_at=settings["opens_at"],
        closes_at=settings.get("closes_at"),
        per_competence=settings.get("per_competence"),
    )
    quiz = Quiz(run=run, bank=bank, created_by_id=by.id if by else None, **settings)
    db.session.add(quiz)
    db.session.flush()
    return quiz


def update_quiz(quiz: Quiz, *, bank: QuestionBank, **settings) -> Quiz:
    """Change a quiz; once someone has attempted it, what it draws can no longer change."""
    _check_quiz(
        quiz=quiz,
        run=quiz.run,
        bank=bank,
        kind=settings["kind"],
        opens_at=settings["opens_at"],
        closes_at=settings.get("closes_at"),
        per_competence=settings.get("per_competence"),
    )
    attempted = db.session.scalar(
        sa.select(sa.func.count(Attempt.id)).where(Attempt.quiz_id == quiz.id)
    )
    if attempted and (
        bank.id != quiz.bank_id
        or settings["kind"] != quiz.kind
        or settings.get("per_competence") != quiz.per_competence
    ):
        raise Conflict(
            _(
                "Learners have already attempted this quiz: its bank, kind and draw can no longer change."
            ),
            field="bank_id",
        )
    old_pass_mark = quiz.pass_mark
    pass_mark_changed = settings.get("pass_mark") != old_pass_mark
    quiz.bank = bank
    for name, value in settings.items():
        setattr(quiz, name, value)
    db.session.flush()
    if attempted and pass_mark_changed:
        _regrade_passed(quiz, old_pass_mark)
    return quiz


def _regrade_passed(quiz: Quiz, old_pass_mark: float) -> None:
    """A new pass mark decides `passed` again for every finished attempt; the attempts whose
    outcome changes are audited (one read, one update and one insert for them all)."""
    final = sa.and_(Attempt.quiz_id == quiz.id, Attempt.state.in_(FINAL_STATES))
    rows = db.session.execute(
        sa.select(Attempt.id, Attempt.person_id, Attempt.passed, Attempt.percent).where(final)
    ).all()
    db.session.execute(
        sa.update(Attempt)
        .where(final)
        .values(passed=Attempt.percent + 1e-9 >= quiz.pass_mark)
        .execution_options(synchronize_session=False)
    )
    for row in rows:
        passed = None if row.percent is None else grading.passed(row.percent, quiz.pass_mark)
        if passed != row.passed:
            audit.record(
                "quiz.regrade",
                subject_type="attempt",
                subject_id=row.id,
                person_id=row.person_id,
                run_id=quiz.run_id,
                before={"passed": row.passed, "pass_mark": old_pass_mark},
                after={"passed": passed, "pass_mark": quiz.pass_mark},
            )


# --- attempts --------------------------------------------------------------------------------


def draw_questions(quiz: Quiz, person: Person, rng: random.Random) -> list[Question]:
    """All active questions, or N at random per competence; a post-test prefers questions
    the learner did not see in the pre-test, so the two are parallel forms."""
    questions = list(
        db.session.scalars(
            sa.select(Question)
            .where(Question.bank_id == quiz.bank_id, Question.active.is_(True))
            .order_by(Question.position, Question.id)
        )
    )
    if quiz.per_competence:
        seen = _seen_in_pretest(quiz, person) if quiz.kind == QuizKind.POST_TEST else set()
        groups: dict[str, list[Question]] = defaultdict(list)
        for question in questions:
            groups[question.competence].append(question)
        chosen = []
        for code in sorted(groups):
            pool = groups[code]
            rng.shuffle(pool)
            pool.sort(key=lambda q: q.id in seen)  # stable: unseen first, random within
            chosen += pool[: quiz.per_competence]
        order = {q.id: i for i, q in enumerate(questions)}
        questions = sorted(chosen, key=lambda q: order[q.id])
    if quiz.shuffle_questions:
        rng.shuffle(questions)
    return questions


def _seen_in_pretest(quiz: Quiz, person: Person) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(AttemptSlot.question_id)
            .join(Attempt, Attempt.id == AttemptSlot.attempt_id)
            .join(Quiz, Quiz.id == Attempt.quiz_id)
            .where(
                Quiz.run_id == quiz.run_id,
                Quiz.kind == QuizKind.PRE_TEST,
                Attempt.person_id == person.id,
            )
        )
    )


def open_attempt(quiz: Quiz, person: Person) -> Attempt | None:
    return db.session.scalar(
        sa.select(Attempt).where(
            Attempt.quiz_id == quiz.id,
            Attempt.person_id == person.id,
            Attempt.state == AttemptState.OPEN,
        )
    )


def start_attempt(
    *,
    quiz: Quiz,
    person: Person,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    rng: random.Random | None = None,
) -> Attempt:
    """Resume the learner's open attempt, or start a new one if the quiz and attempts allow."""
    close_expired_attempts(now=now, grace=grace, quiz_id=quiz.id, person_id=person.id)
    current = open_attempt(quiz, person)
    if current is not None:
        return current
    if now < quiz.opens_at:
        raise DomainError(
            _("This quiz opens on %(when)s.", when=format_datetime(quiz.opens_at, "short"))
        )
    if quiz.is_closed(now):
        raise DomainError(_("This quiz is closed."))
    used = db.session.scalar(
        sa.select(sa.func.max(Attempt.number)).where(
            Attempt.quiz_id == quiz.id, Attempt.person_id == person.id
        )
    )
    used = used or 0
    if quiz.max_attempts is not None and used >= quiz.max_attempts:
        raise DomainError(_("You have used all your attempts at this quiz."))
    rng = rng or random.Random(secrets.randbits(64))
    questions = draw_questions(quiz, person, rng)
    if not questions:
        raise DomainError(_("This quiz has no questions yet. Please tell your trainer."))
    deadline = None
    if quiz.time_limit_minutes:
        deadline = now + timedelta(minutes=quiz.time_limit_minutes)
    if quiz.closes_at is not None:
        deadline = min(deadline, quiz.closes_at) if deadline else quiz.closes_at
    attempt = Attempt(
        quiz=quiz,
        person=person,
        number=used + 1,
        state=AttemptState.OPEN,
        started_at=now,
        deadline=deadline,
    )
    for position, question in enumerate(questions, start=1):
        attempt.slots.append(
            AttemptSlot(
                question=question,
                position=position,
                points=question.points,
                layout=question.kind.layout(question.data, rng, quiz.shuffle_choices),
            )
        )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError:
        # A second tab started the same attempt at the same moment.
        raise Conflict(_("An attempt was started in another window. Reload the page.")) from None
    return attempt


def _writable(attempt: Attempt, now: datetime, grace: timedelta) -> bool:
    """Touch the attempt if it still takes answers; the UPDATE also takes the row lock."""
    result = db.session.execute(
        sa.update(Attempt)
        .where(
            Attempt.id == attempt.id,
            Attempt.state == AttemptState.OPEN,
            sa.or_(Attempt.deadline.is_(None), Attempt.deadline >= now - grace),
        )
        .values(last_saved_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _closed_message(attempt: Attempt) -> str:
    db.session.refresh(attempt, ["state"])
    if attempt.state == AttemptState.OPEN:
        return _("Time is up: this attempt no longer takes answers.")
    return _("This attempt is already submitted; it no longer takes answers.")


def slot_name(slot: AttemptSlot) -> str:
    return f"q{slot.position}"


def save_answer(
    *,
    attempt: Attempt,
    position: int,
    values: dict[str, list[str]],
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
) -> AttemptSlot:
    """Store one answer as the learner goes; refused once the attempt is closed or out of time."""
    slot = next((s for s in attempt.slots if s.position == position), None)
    if slot is None:
        raise DomainError(_("There is no question %(n)d in this attempt.", n=position))
    if not _writable(attempt, now, grace):
        raise AttemptClosed(_closed_message(attempt))
    _store(slot, values, now)
    db.session.flush()
    return slot


def _store(slot: AttemptSlot, values: dict[str, list[str]], now: datetime) -> None:
    question = slot.question
    response = question.kind.parse(values, slot_name(slot), question.data, slot.layout or {})
    slot.response = response
    slot.answered_at = now if response is not None else None


def form_values(form, slot: AttemptSlot) -> dict[str, list[str]]:
    """The fields of one question in a submitted form (a MultiDict or a plain mapping)."""
    name = slot_name(slot)
    pattern = re.compile(rf"^{name}(-\d+)?$")
    getlist = form.getlist if hasattr(form, "getlist") else lambda key: form.get(key) or []
    return {key: list(getlist(key)) for key in form if pattern.match(key)}


def save_answers(
    *, attempt: Attempt, form, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> None:
    """Store every question listed in a whole-page form (the no-JavaScript path)."""
    if not _writable(attempt, now, grace):
        raise AttemptClosed(_closed_message(attempt))
    listed = {int(p) for p in form.getlist("slot") if str(p).isdigit()}
    for slot in attempt.slots:
        if slot.position in listed:
            _store(slot, form_values(form, slot), now)
    db.session.flush()


def _finish(attempt: Attempt, state: AttemptState, now: datetime) -> bool:
    """The one transition out of OPEN; False if another request made it first."""
    result = db.session.execute(
        sa.update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.state == AttemptState.OPEN)
        .values(state=state, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(attempt, ["state", "finished_at"])
    grade_attempt(attempt)
    return True


def submit_attempt(
    *, attempt: Attempt, now: datetime, grace: timedelta = DEFAULT_GRACE, form=None
) -> Attempt:
    """Save the page's last answers (if in time), close the attempt once, and grade it."""
    in_time = attempt.deadline is None or now <= attempt.deadline + grace
    if form is not None and in_time:
        # Closed meanwhile? Then _finish below reports it.
        with contextlib.suppress(AttemptClosed):
            save_answers(attempt=attempt, form=form, now=now, grace=grace)
    state = AttemptState.SUBMITTED if in_time else AttemptState.TIMED_OUT
    if not _finish(attempt, state, now):
        raise AttemptClosed(_("This attempt is already submitted."))
    return attempt


def grade_attempt(attempt: Attempt) -> None:
    """Score every slot and the attempt; the quiz's pass mark decides `passed`."""
    before = (
        None
        if attempt.score is None
        else {"score": attempt.score, "percent": attempt.percent, "passed": attempt.passed}
    )
    earned = maximum = 0.0
    for slot in attempt.slots:
        fraction = slot.question.kind.grade(slot.question.data, slot.response)
        slot.score = grading.score(fraction, slot.points)
        earned += slot.score
        maximum += slot.points
    attempt.score = round(earned, 6)
    attempt.max_score = round(maximum, 6)
    attempt.percent = grading.percent(earned, maximum)
    attempt.passed = grading.passed(attempt.percent, attempt.quiz.pass_mark)
    db.session.flush()
    audit.record(
        "quiz.grade",
        subject_type="attempt",
        subject_id=attempt.id,
        # A learner's own submission is theirs; an attempt closed at its deadline, the system's.
        actor=None if attempt.state == AttemptState.TIMED_OUT else audit.CURRENT,
        person_id=attempt.person_id,
        run_id=attempt.quiz.run_id,
        before=before,
        after={
            "quiz_id": attempt.quiz_id,
            "state": attempt.state,
            "score": attempt.score,
            "max_score": attempt.max_score,
            "percent": attempt.percent,
            "passed": attempt.passed,
        },
    )
    progress.changed(attempt.quiz.run_id)


def expire_if_due(attempt: Attempt, *, now: datetime, grace: timedelta = DEFAULT_GRACE) -> bool:
    """Close and grade an attempt whose time ran out; True if this call closed it."""
    if attempt.state != AttemptState.OPEN or attempt.deadline is None:
        return False
    if now <= attempt.deadline + grace:
        return False
    return _finish(attempt, AttemptState.TIMED_OUT, now)


def close_expired_attempts(
    *,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    quiz_id: int | None = None,
    person_id: int | None = None,
    run_id: int | None = None,
) -> int:
    """Close and grade every open attempt past its deadline (plus grace); returns how many."""
    query = sa.select(Attempt).where(
        Attempt.state == AttemptState.OPEN,
        Attempt.deadline.is_not(None),
        Attempt.deadline < now - grace,
    )
    if quiz_id is not None:
        query = query.where(Attempt.quiz_id == quiz_id)
    if person_id is not None:
        query = query.where(Attempt.person_id == person_id)
    if run_id is not None:
        query = query.where(Attempt.quiz_id.in_(sa.select(Quiz.id).where(Quiz.run_id == run_id)))
    closed = 0
    for attempt in db.session.scalars(query).all():
        closed += expire_if_due(attempt, now=now, grace=grace)
    return closed


def results_visible(quiz: Quiz, now: datetime) -> bool:
    return quiz.reveals(quiz.show_results, now)


def answers_visible(quiz: Quiz, now: datetime) -> bool:
    return quiz.reveals(quiz.show_answers, now) and quiz.show_results != ShowWhen.NEVER


# --- banks -----------------------------------------------------------------------------------


def _bank_slug(course: Course, title: str) -> str:
    base = gift._slug(title) or "gift"
    taken = set(
        db.session.scalars(sa.select(QuestionBank.slug).where(QuestionBank.course_id == course.id))
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def import_gift(
    *,
    course: Course,
    text: str,
    source: str,
    lang: str,
    competence: str,
    level: int,
    bank: QuestionBank | None = None,
    title: str | None = None,
) -> tuple[QuestionBank, dict]:
    """Import a GIFT file into a new bank or a GIFT bank of the course; all or nothing.

    Raises gift.GiftError listing every malformed question (file:line: reason).
    """
    drafts = gift.to_drafts(
        gift.parse_gift(text, source), lang=lang, competence=competence, level=level, source=source
    )
    if bank is None:
        if not (title or "").strip():
            raise DomainError(_("Give the new question bank a title."), field="title")
        title_column = {"sq": "title_sq", "sr": "title_sr"}.get(lang)
        bank = QuestionBank(
            course=course,
            slug=_bank_slug(course, title),
            title_en=title.strip(),
            source=BankSource.GIFT,
        )
        if title_column:
            setattr(bank, title_column, title.strip())
        db.session.add(bank)
        db.session.flush()
    elif bank.source != BankSource.GIFT:
        raise DomainError(
            _("This bank comes from the curriculum files; change those files instead."),
            field="bank_id",
        )
    elif bank.course_id != course.id:
        raise DomainError(_("Choose a bank of the same course."), field="bank_id")
    counts = apply_drafts(bank, drafts, retire_missing=False)
    return bank, counts
