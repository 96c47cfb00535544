"""Knowledge gain and share-correct aggregates, the functions donor reports reuse."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.courses.models import CourseRun
from app.extensions import db
from app.people.models import Person, Sex
from app.quizzes import queries, services
from app.quizzes.models import QuizKind
from tests.conftest import create_programme, create_run
from tests.quizzes.factories import draft, enrolled_learner, make_bank, make_quiz, right_values

NOW = datetime(2026, 6, 1, 9, 0)


def bank_of(run, size=4):
    drafts = [
        draft(f"q{n}", "true_false", {"answer": True}, competence="4.1" if n % 2 else "4.2")
        for n in range(size)
    ]
    return make_bank(run.course, drafts)


def sit(quiz, learner, right: int, minutes=0):
    """A graded attempt with the first `right` questions (by position) answered right."""
    now = NOW + timedelta(minutes=minutes)
    attempt = services.start_attempt(quiz=quiz, person=learner.person, now=now)
    values = right_values(attempt)
    for position in sorted(values)[:right]:
        services.save_answer(attempt=attempt, position=position, values=values[position], now=now)
    services.submit_attempt(attempt=attempt, now=now)
    db.session.commit()
    return attempt


@pytest.fixture
def paired():
    run = create_run()
    bank = bank_of(run)
    opens = NOW - timedelta(days=1)
    pre = make_quiz(
        run, bank, kind=QuizKind.PRE_TEST, pass_mark=75, opens_at=opens, shuffle_questions=False
    )
    post = make_quiz(
        run, bank, kind=QuizKind.POST_TEST, pass_mark=75, opens_at=opens, shuffle_questions=False
    )
    return run, pre, post


def test_knowledge_gain_counts_only_learners_with_both_tests(paired):
    run, pre, post = paired
    ana, besa, dren, only_pre = (enrolled_learner(run) for _ in range(4))
    sit(pre, ana, 1)
    sit(post, ana, 4)  # 25 → 100, reaches 75
    sit(pre, besa, 2)
    sit(post, besa, 2)  # 50 → 50
    sit(pre, dren, 3)
    sit(post, dren, 1, minutes=1)
    sit(post, dren, 3, minutes=2)  # last post attempt counts: 75 → 75, reaches
    sit(pre, only_pre, 4)
    gain = queries.knowledge_gain([run.id])
    assert gain.learners == 3
    assert gain.reached_pass_mark == 2
    assert gain.share_reached == pytest.approx(2 / 3)
    assert gain.mean_pre == 50.0
    assert gain.mean_post == pytest.approx(75.0)
    assert gain.mean_gain == pytest.approx(25.0)
    assert gain.improved == 1


def test_first_pre_attempt_counts_even_if_a_later_one_is_better(paired):
    run, pre, post = paired
    learner = enrolled_learner(run)
    sit(pre, learner, 1)
    sit(pre, learner, 4, minutes=5)
    sit(post, learner, 2)
    (row,) = queries.learner_gains(run.id, learner.person.id)
    assert (row.pre, row.post, row.gain, row.reached) == (25.0, 50.0, 25.0, False)


def test_learner_table_lists_everyone_enrolled(paired):
    run, pre, post = paired
    sitting, absent = enrolled_learner(run, last_name="A"), enrolled_learner(run, last_name="B")
    sit(pre, sitting, 2)
    rows = queries.learner_gains(run.id)
    assert [(r.pre, r.post, r.gain, r.reached) for r in rows] == [
        (50.0, None, None, None),
        (None, None, None, None),
    ]
    assert rows[1].person_id == absent.person.id


def test_open_attempts_do_not_count(paired):
    run, pre, post = paired
    learner = enrolled_learner(run)
    sit(pre, learner, 2)
    services.start_attempt(quiz=post, person=learner.person, now=NOW)
    db.session.commit()
    assert queries.knowledge_gain([run.id]).learners == 0


def test_share_correct_per_question_and_competence(paired):
    run, pre, post = paired
    for right_before, right_after in ((0, 4), (2, 4)):
        learner = enrolled_learner(run)
        sit(pre, learner, right_before)
        sit(post, learner, right_after)
    by_question, by_competence = queries.share_correct([run.id])
    assert {round(i.before) for i in by_question.values()} == {0, 50}
    assert all(i.after == 100.0 for i in by_question.values())
    assert set(by_competence) == {"4.1", "4.2"}
    total = by_competence["4.2"]
    assert (total.before_total, total.after_total) == (4, 4)
    assert total.before == 25.0  # q0 and q2 are 4.2; only q0 (position 1) was right, once


def test_reports_can_select_runs_and_disaggregate():
    """Issue 6 passes a Select of run ids and joins Person to the pairs."""
    programme = create_programme()
    runs = [create_run(programme), create_run(programme), create_run()]
    for run in runs:
        bank = bank_of(run)
        pre = make_quiz(run, bank, kind=QuizKind.PRE_TEST, opens_at=NOW - timedelta(days=1))
        post = make_quiz(run, bank, kind=QuizKind.POST_TEST, opens_at=NOW - timedelta(days=1))
        for sex, before, after in ((Sex.FEMALE, 1, 4), (Sex.MALE, 2, 3)):
            learner = enrolled_learner(run, sex=sex)
            sit(pre, learner, before)
            sit(post, learner, after)
    in_programme = sa.select(CourseRun.id).where(CourseRun.programme_id == programme.id)
    assert queries.knowledge_gain(in_programme).learners == 4
    assert queries.knowledge_gain().learners == 6
    pairs = queries.gain_pairs(in_programme).subquery()
    rows = db.session.execute(
        sa.select(Person.sex, sa.func.avg(pairs.c.gain))
        .join(Person, Person.id == pairs.c.person_id)
        .group_by(Person.sex)
        .order_by(Person.sex)
    ).all()
    assert [(str(sex), round(float(gain))) for sex, gain in rows] == [("female", 75), ("male", 25)]
    assert queries.knowledge_gain([]).learners == 0
    assert queries.knowledge_gain([]).mean_gain is None
