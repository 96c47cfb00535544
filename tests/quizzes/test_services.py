"""Quiz and attempt rules, called directly."""

import random
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.errors import Conflict, DomainError
from app.extensions import db
from app.quizzes import services
from app.quizzes.gift import GiftError
from app.quizzes.models import Attempt, AttemptState, BankSource, Question, QuestionBank, QuizKind
from app.quizzes.services import AttemptClosed
from tests.conftest import create_course, create_run
from tests.quizzes.factories import (
    NUMBER,
    draft,
    enrolled_learner,
    make_bank,
    make_quiz,
    right_values,
    sample_drafts,
)

NOW = datetime(2026, 6, 1, 10, 0)
GRACE = timedelta(seconds=30)


@pytest.fixture
def setup():
    run = create_run()
    bank = make_bank(run.course)
    learner = enrolled_learner(run)
    return run, bank, learner


def start(quiz, person, now=NOW, seed=1):
    attempt = services.start_attempt(quiz=quiz, person=person, now=now, rng=random.Random(seed))
    db.session.commit()
    return attempt


def answer_all(attempt, now=NOW, values=None):
    for position, fields in (values or right_values(attempt)).items():
        services.save_answer(
            attempt=attempt, position=position, values=fields, now=now, grace=GRACE
        )
    db.session.commit()


# --- starting ----------------------------------------------------------------------------------


def test_start_draws_every_question_and_stores_the_order(setup):
    run, bank, learner = setup
    quiz = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1))
    attempt = start(quiz, learner.person)
    assert attempt.state == AttemptState.OPEN
    assert attempt.number == 1
    assert sorted(s.question.key for s in attempt.slots) == sorted(d.key for d in sample_drafts())
    single = next(s for s in attempt.slots if s.question.key == "single")
    assert sorted(single.layout["choices"]) == ["c1", "c2", "c3"]
    match = next(s for s in attempt.slots if s.question.key == "match")
    assert match.layout["options"] != sorted(match.layout["options"])  # never in authored order


def test_starting_again_resumes_the_open_attempt_with_the_same_order(setup):
    run, bank, learner = setup
    quiz = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1))
    first = start(quiz, learner.person, seed=1)
    order = [(s.question_id, s.layout) for s in first.slots]
    db.session.expire_all()
    again = start(quiz, learner.person, seed=99)
    assert again.id == first.id
    assert [(s.question_id, s.layout) for s in again.slots] == order


def test_random_draw_per_competence(setup):
    run, bank, learner = setup
    quiz = make_quiz(run, bank, per_competence=1, opens_at=NOW - timedelta(hours=1))
    attempt = start(quiz, learner.person)
    assert sorted(s.question.competence for s in attempt.slots) == ["4.1", "4.2"]


def test_post_test_prefers_questions_not_seen_in_the_pre_test():
    run = create_run()
    drafts = [draft(f"q{n}", "true_false", {"answer": True}, competence="4.2") for n in range(4)]
    bank = make_bank(run.course, drafts)
    learner = enrolled_learner(run)
    opens = NOW - timedelta(hours=1)
    pre = make_quiz(run, bank, kind=QuizKind.PRE_TEST, per_competence=2, opens_at=opens)
    post = make_quiz(run, bank, kind=QuizKind.POST_TEST, per_competence=2, opens_at=opens)
    for seed in range(5):
        seen = {s.question_id for s in start(pre, learner.person, seed=seed).slots}
        attempt = start(post, learner.person, seed=seed)
        assert seen.isdisjoint({s.question_id for s in attempt.slots})
        db.session.execute(sa.delete(Attempt))
        db.session.commit()


def test_start_refuses_outside_the_window_and_beyond_the_attempts(setup):
    run, bank, learner = setup
    later = make_quiz(run, bank, opens_at=NOW + timedelta(hours=1))
    with pytest.raises(DomainError, match="opens on"):
        start(later, learner.person)
    closed = make_quiz(
        run, bank, opens_at=NOW - timedelta(days=2), closes_at=NOW - timedelta(days=1)
    )
    with pytest.raises(DomainError, match="closed"):
        start(closed, learner.person)
    once = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1), max_attempts=1)
    attempt = start(once, learner.person)
    services.submit_attempt(attempt=attempt, now=NOW, grace=GRACE)
    db.session.commit()
    with pytest.raises(DomainError, match="used all your attempts"):
        start(once, learner.person)


def test_deadline_is_the_time_limit_capped_at_closing(setup):
    run, bank, learner = setup
    timed = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1), time_limit_minutes=20)
    assert start(timed, learner.person).deadline == NOW + timedelta(minutes=20)
    closing = make_quiz(
        run,
        bank,
        opens_at=NOW - timedelta(hours=1),
        time_limit_minutes=20,
        closes_at=NOW + timedelta(minutes=5),
    )
    assert start(closing, learner.person).deadline == NOW + timedelta(minutes=5)
    untimed = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1))
    assert start(untimed, learner.person).deadline is None


# --- answering and submitting ------------------------------------------------------------------


def test_answers_are_saved_by_id_and_graded_on_submit(setup):
    run, bank, learner = setup
    quiz = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1))
    attempt = start(quiz, learner.person)
    answer_all(attempt)
    number = next(s for s in attempt.slots if s.question.key == "number")
    assert number.response == str(NUMBER)
    services.submit_attempt(attempt=attempt, now=NOW + timedelta(minutes=3), grace=GRACE)
    db.session.commit()
    assert attempt.state == AttemptState.SUBMITTED
    assert attempt.score == attempt.max_score == 6
    assert attempt.percent == 100.0
    assert attempt.passed is True
    assert all(s.correct for s in attempt.slots)


def test_blank_and_wrong_answers_score_zero(setup):
    run, bank, learner = setup
    quiz = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1), pass_mark=50)
    attempt = start(quiz, learner.person)
    short = next(s for s in attempt.slots if s.question.key == "short")
    services.save_answer(
        attempt=attempt,
        position=short.position,
        values={short_name(short): ["  QUETZALCOATL "]},
        now=NOW,
    )
    services.submit_attempt(attempt=attempt, now=NOW)
    assert attempt.score == 1
    assert attempt.percent == pytest.approx(16.67)
    assert attempt.passed is False


def short_name(slot):
    return f"q{slot.position}"


def test_submitting_twice_is_refused(setup):
    run, bank, learner = setup
    quiz = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1))
    attempt = start(quiz, learner.person)
    services.submit_attempt(attempt=attempt, now=NOW)
    db.session.commit()
    with pytest.raises(AttemptClosed):
        services.submit_attempt(attempt=attempt, now=NOW)


def test_a_stale_copy_cannot_submit_what_the_database_already_closed(setup):
    """The transition checks the row, not the object in memory (the concurrent-submit case)."""
    run, bank, learner = setup
    quiz = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1))
    attempt = start(quiz, learner.person)
    db.session.execute(
        sa.update(Attempt)
        .where(Attempt.id == attempt.id)
        .values(state=AttemptState.SUBMITTED)
        .execution_options(synchronize_session=False)
    )
    assert attempt.state == AttemptState.OPEN  # the stale in-memory state
    with pytest.raises(AttemptClosed):
        services.submit_attempt(attempt=attempt, now=NOW)
    with pytest.raises(AttemptClosed):
        services.save_answer(attempt=attempt, position=1, values={"q1": ["0"]}, now=NOW)


def test_answers_after_the_deadline_and_grace_are_refused(setup):
    run, bank, learner = setup
    quiz = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1), time_limit_minutes=10)
    attempt = start(quiz, learner.person)
    deadline = attempt.deadline
    services.save_answer(
        attempt=attempt,
        position=1,
        values={"q1": ["0"]},
        now=deadline + timedelta(seconds=20),
        grace=GRACE,
    )
    with pytest.raises(AttemptClosed, match="Time is up"):
        services.save_answer(
            attempt=attempt,
            position=2,
            values={"q2": ["0"]},
            now=deadline + timedelta(seconds=31),
            grace=GRACE,
        )


def test_late_submission_closes_as_timed_out_without_its_answers(setup):
    run, bank, learner = setup
    quiz = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1), time_limit_minutes=10)
    attempt = start(quiz, learner.person)
    values = right_values(attempt)
    first = min(values)
    answer_all(attempt, values={first: values[first]})
    form = MultiDict([("slot", str(p)) for p in values])
    for fields in values.values():
        for name, items in fields.items():
            form.setlist(name, items)
    services.submit_attempt(
        attempt=attempt, now=attempt.deadline + timedelta(minutes=5), grace=GRACE, form=form
    )
    assert attempt.state == AttemptState.TIMED_OUT
    assert attempt.score == 1  # only what was saved in time


def test_expired_attempts_are_closed_and_graded(setup):
    run, bank, learner = setup
    quiz = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1), time_limit_minutes=10)
    attempt = start(quiz, learner.person)
    answer_all(attempt)
    other = start(make_quiz(run, bank, opens_at=NOW - timedelta(hours=1)), learner.person)
    assert (
        services.close_expired_attempts(now=attempt.deadline + timedelta(seconds=10), grace=GRACE)
        == 0
    )
    assert (
        services.close_expired_attempts(now=attempt.deadline + timedelta(seconds=31), grace=GRACE)
        == 1
    )
    db.session.commit()
    assert attempt.state == AttemptState.TIMED_OUT
    assert attempt.finished_at == attempt.deadline + timedelta(seconds=31)
    assert attempt.percent == 100.0
    assert other.state == AttemptState.OPEN  # no deadline, stays open


def test_starting_after_expiry_closes_the_old_attempt_first(setup):
    run, bank, learner = setup
    quiz = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1), time_limit_minutes=10)
    first = start(quiz, learner.person)
    second = start(quiz, learner.person, now=NOW + timedelta(hours=1))
    assert second.id != first.id
    assert second.number == 2
    db.session.refresh(first)
    assert first.state == AttemptState.TIMED_OUT


def test_unknown_position_is_refused(setup):
    run, bank, learner = setup
    attempt = start(make_quiz(run, bank, opens_at=NOW - timedelta(hours=1)), learner.person)
    with pytest.raises(DomainError, match="no question 99"):
        services.save_answer(attempt=attempt, position=99, values={}, now=NOW)


# --- quiz rules --------------------------------------------------------------------------------


def test_pre_and_post_test_pair_rules(setup):
    run, bank, _learner = setup
    make_quiz(run, bank, kind=QuizKind.PRE_TEST)
    with pytest.raises(Conflict, match="already has a Pre-test"):
        make_quiz(run, bank, kind=QuizKind.PRE_TEST)
    other = make_bank(run.course, slug="other")
    with pytest.raises(DomainError, match="same question bank"):
        make_quiz(run, other, kind=QuizKind.POST_TEST)
    make_quiz(run, bank, kind=QuizKind.POST_TEST)
    make_quiz(run, other, kind=QuizKind.PRACTICE)  # practice quizzes are free


def test_quiz_must_use_a_bank_of_its_course_and_close_after_opening(setup):
    run, _bank, _learner = setup
    foreign = make_bank(create_course())
    with pytest.raises(DomainError, match="this run's course"):
        make_quiz(run, foreign)
    with pytest.raises(DomainError, match="close after it opens"):
        make_quiz(run, _bank, opens_at=NOW, closes_at=NOW)
    empty = make_bank(run.course, drafts=[], slug="empty")
    with pytest.raises(DomainError, match="no questions"):
        make_quiz(run, empty)


def test_attempted_quiz_keeps_its_draw_but_pass_mark_changes_regrade_passed(setup):
    run, bank, learner = setup
    quiz = make_quiz(run, bank, opens_at=NOW - timedelta(hours=1), pass_mark=50)
    attempt = start(quiz, learner.person)
    answer_all(attempt, values=dict(list(right_values(attempt).items())[:3]))
    services.submit_attempt(attempt=attempt, now=NOW)
    db.session.commit()
    assert attempt.passed is True
    settings = {
        c: getattr(quiz, c) for c in ("title", "kind", "per_competence", "opens_at", "closes_at")
    }
    with pytest.raises(Conflict, match="already attempted"):
        services.update_quiz(quiz, bank=bank, **{**settings, "per_competence": 1})
    services.update_quiz(quiz, bank=bank, **settings, pass_mark=60.0)
    db.session.commit()
    db.session.refresh(attempt)
    assert attempt.percent == 50.0
    assert attempt.passed is False


# --- GIFT import -------------------------------------------------------------------------------


def test_gift_import_creates_a_bank_and_merges_by_key():
    course = create_course()
    bank, counts = services.import_gift(
        course=course,
        text="// [id:a]\nA?{T}\n\n// [id:b]\nB?{=x ~y}",
        source="a.gift",
        lang="sq",
        competence="4.2",
        level=3,
        title="Importi",
    )
    db.session.commit()
    assert counts == {"added": 2, "updated": 0, "retired": 0}
    assert bank.source == BankSource.GIFT
    assert bank.title_sq == "Importi"
    assert bank.questions[0].text_sq == "A?"
    _bank, counts = services.import_gift(
        course=course,
        text="// [id:a]\nA changed?{F}\n\n// [id:c]\nC?{T}",
        source="b.gift",
        lang="sq",
        competence="4.2",
        level=3,
        bank=bank,
    )
    db.session.commit()
    assert counts == {"added": 1, "updated": 1, "retired": 0}
    assert [q.key for q in bank.questions] == ["a", "b", "c"]


def test_gift_import_is_all_or_nothing():
    course = create_course()
    with pytest.raises(GiftError):
        services.import_gift(
            course=course,
            text="Good?{T}\n\nBad {~only}",
            source="x.gift",
            lang="en",
            competence="4.2",
            level=3,
            title="X",
        )
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(QuestionBank.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Question.id))) == 0


def test_gift_import_never_touches_curriculum_banks():
    run = create_run()
    bank = make_bank(run.course)
    with pytest.raises(DomainError, match="curriculum files"):
        services.import_gift(
            course=run.course,
            text="Q?{T}",
            source="x",
            lang="en",
            competence="4.2",
            level=3,
            bank=bank,
        )


def test_close_expired_command(runner, setup):
    run, bank, learner = setup
    quiz = make_quiz(run, bank, time_limit_minutes=5, opens_at=NOW - timedelta(hours=1))
    attempt = services.start_attempt(quiz=quiz, person=learner.person, now=NOW)
    db.session.commit()
    result = runner.invoke(args=["quizzes", "close-expired"])
    assert result.exit_code == 0, result.output
    assert "1 attempt(s) closed" in result.output
    db.session.refresh(attempt)
    assert attempt.state == AttemptState.TIMED_OUT
