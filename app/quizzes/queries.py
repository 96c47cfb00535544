"""Reads for quiz pages and results: a fixed number of queries, aggregates in SQL.

Knowledge gain (Kirkpatrick level 2) is defined once, here, for the run pages and for the
donor reports: a learner's pre-test score is their FIRST graded pre-test attempt (the
baseline, before teaching), their post-test score their LAST graded post-test attempt (what
they know at the end). Scores are percentages; the gain is post minus pre, in points.
`knowledge_gain(run_ids)` summarises those with both tests: how many, the share reaching the
post-test's pass mark, mean pre, mean post, mean gain.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.courses.models import Course, CourseRun, CourseRunTrainer
from app.enrollment.models import Enrollment, EnrollmentStatus
from app.extensions import db
from app.people.models import Person

from .models import (
    FINAL_STATES,
    Attempt,
    AttemptSlot,
    AttemptState,
    Question,
    QuestionBank,
    Quiz,
    QuizKind,
)

RunIds = Iterable[int] | sa.Select | None
_CORRECT_SLACK = 1e-6


def _run_filter(column, run_ids: RunIds):
    if run_ids is None:
        return sa.true()
    if isinstance(run_ids, sa.Select):
        return column.in_(run_ids)
    return column.in_(list(run_ids) or [-1])


# --- loading ---------------------------------------------------------------------------------


def load_quiz(quiz_id: int) -> Quiz | None:
    return db.session.scalar(
        sa.select(Quiz)
        .where(Quiz.id == quiz_id)
        .options(
            so.joinedload(Quiz.run).joinedload(CourseRun.course),
            so.joinedload(Quiz.run).selectinload(CourseRun.trainer_rows),
            so.joinedload(Quiz.bank),
        )
    )


def load_attempt(attempt_id: int) -> Attempt | None:
    """The attempt with its quiz, run and every slot's question: three queries in all."""
    return db.session.scalar(
        sa.select(Attempt)
        .where(Attempt.id == attempt_id)
        .options(
            so.joinedload(Attempt.quiz).joinedload(Quiz.run).joinedload(CourseRun.course),
            so.joinedload(Attempt.quiz).joinedload(Quiz.run).selectinload(CourseRun.trainer_rows),
            so.joinedload(Attempt.person),
            so.selectinload(Attempt.slots).joinedload(AttemptSlot.question),
        )
    )


def load_run(run_id: int) -> CourseRun | None:
    return db.session.scalar(
        sa.select(CourseRun)
        .where(CourseRun.id == run_id)
        .options(
            so.joinedload(CourseRun.course),
            so.selectinload(CourseRun.trainer_rows).joinedload(CourseRunTrainer.user),
        )
    )


def is_enrolled(run_id: int, person_id: int | None) -> bool:
    if person_id is None:
        return False
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(Enrollment.id)).where(
                Enrollment.run_id == run_id,
                Enrollment.person_id == person_id,
                Enrollment.status == EnrollmentStatus.ENROLLED,
            )
        )
    )


def quizzes_of_run(run_id: int) -> list[Quiz]:
    order = sa.case(
        (Quiz.kind == QuizKind.PRE_TEST, 0), (Quiz.kind == QuizKind.PRACTICE, 1), else_=2
    )
    return list(
        db.session.scalars(
            sa.select(Quiz)
            .where(Quiz.run_id == run_id)
            .options(so.joinedload(Quiz.bank))
            .order_by(order, Quiz.opens_at, Quiz.id)
        )
    )


@dataclass
class MyQuizState:
    attempts: int = 0
    open_attempt_id: int | None = None
    last_attempt_id: int | None = None
    best_percent: float | None = None


def my_quiz_states(run_id: int, person_id: int) -> dict[int, MyQuizState]:
    """Per quiz of the run: the learner's attempt count, open attempt, last attempt, best score."""
    rows = db.session.execute(
        sa.select(Attempt.quiz_id, Attempt.id, Attempt.state, Attempt.percent)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(Quiz.run_id == run_id, Attempt.person_id == person_id)
        .order_by(Attempt.number)
    )
    states: dict[int, MyQuizState] = {}
    for quiz_id, attempt_id, state, percent in rows:
        item = states.setdefault(quiz_id, MyQuizState())
        item.attempts += 1
        item.last_attempt_id = attempt_id
        if state == AttemptState.OPEN:
            item.open_attempt_id = attempt_id
        elif percent is not None:
            item.best_percent = max(item.best_percent or 0.0, percent)
    return states


def attempts_of(quiz_id: int, person_id: int) -> list[Attempt]:
    return list(
        db.session.scalars(
            sa.select(Attempt)
            .where(Attempt.quiz_id == quiz_id, Attempt.person_id == person_id)
            .order_by(Attempt.number)
        )
    )


def banks_of_course(course_id: int) -> list[QuestionBank]:
    return list(
        db.session.scalars(
            sa.select(QuestionBank)
            .where(QuestionBank.course_id == course_id)
            .order_by(QuestionBank.title_en)
        )
    )


def bank_list() -> list[sa.Row]:
    """Every bank with its course and number of active questions, in one query."""
    active = sa.func.count(Question.id).filter(Question.active.is_(True))
    return db.session.execute(
        sa.select(QuestionBank, Course.code, active.label("questions"))
        .join(Course, Course.id == QuestionBank.course_id)
        .outerjoin(Question, Question.bank_id == QuestionBank.id)
        .group_by(QuestionBank.id, Course.code)
        .order_by(Course.code, QuestionBank.title_en)
    ).all()


def load_bank(bank_id: int) -> QuestionBank | None:
    return db.session.scalar(
        sa.select(QuestionBank)
        .where(QuestionBank.id == bank_id)
        .options(so.joinedload(QuestionBank.course), so.selectinload(QuestionBank.questions))
    )


def gift_banks() -> list[QuestionBank]:
    return list(
        db.session.scalars(
            sa.select(QuestionBank)
            .where(QuestionBank.source == "gift")
            .options(so.joinedload(QuestionBank.course))
            .order_by(QuestionBank.title_en)
        )
    )


# --- grading overview ------------------------------------------------------------------------


def quiz_attempts(quiz_id: int) -> list[Attempt]:
    """Every attempt at the quiz with the learner, by name: one query."""
    return list(
        db.session.scalars(
            sa.select(Attempt)
            .join(Attempt.person)
            .where(Attempt.quiz_id == quiz_id)
            .options(so.contains_eager(Attempt.person))
            .order_by(Person.last_name, Person.first_name, Attempt.number)
        )
    )


def slot_scores(quiz_id: int) -> list[sa.Row]:
    """(attempt_id, question_id, position, score, points, response) of every graded attempt."""
    return db.session.execute(
        sa.select(
            AttemptSlot.attempt_id,
            AttemptSlot.question_id,
            AttemptSlot.position,
            AttemptSlot.score,
            AttemptSlot.points,
            AttemptSlot.response,
        )
        .join(Attempt, Attempt.id == AttemptSlot.attempt_id)
        .where(Attempt.quiz_id == quiz_id, Attempt.state.in_(FINAL_STATES))
    ).all()


def questions_by_id(question_ids: Iterable[int]) -> dict[int, Question]:
    ids = sorted(set(question_ids))
    if not ids:
        return {}
    return {q.id: q for q in db.session.scalars(sa.select(Question).where(Question.id.in_(ids)))}


def quiz_summary(quiz_id: int) -> sa.Row:
    """Graded attempts, learners, mean and pass count, in SQL."""
    final = Attempt.state.in_(FINAL_STATES)
    return db.session.execute(
        sa.select(
            sa.func.count(Attempt.id).filter(final).label("graded"),
            sa.func.count(Attempt.id).filter(Attempt.state == AttemptState.OPEN).label("open"),
            sa.func.count(sa.distinct(Attempt.person_id)).label("learners"),
            sa.func.avg(Attempt.percent).filter(final).label("mean"),
            sa.func.count(Attempt.id).filter(final, Attempt.passed.is_(True)).label("passed"),
        ).where(Attempt.quiz_id == quiz_id)
    ).one()


# --- knowledge gain --------------------------------------------------------------------------


def counted_attempts(kind: QuizKind, run_ids: RunIds = None) -> sa.Subquery:
    """The attempt that counts per learner and run: first pre-test, last post-test."""
    pick = sa.func.min if kind == QuizKind.PRE_TEST else sa.func.max
    chosen = (
        sa.select(Attempt.quiz_id, Attempt.person_id, pick(Attempt.number).label("number"))
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(
            Quiz.kind == kind,
            Attempt.state.in_(FINAL_STATES),
            _run_filter(Quiz.run_id, run_ids),
        )
        .group_by(Attempt.quiz_id, Attempt.person_id)
        .subquery()
    )
    return (
        sa.select(
            Quiz.run_id,
            Attempt.person_id,
            Attempt.id.label("attempt_id"),
            Attempt.percent,
            Quiz.pass_mark,
        )
        .join(
            chosen,
            sa.and_(
                Attempt.quiz_id == chosen.c.quiz_id,
                Attempt.person_id == chosen.c.person_id,
                Attempt.number == chosen.c.number,
            ),
        )
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .subquery(f"counted_{kind.value}")
    )


def gain_pairs(run_ids: RunIds = None) -> sa.Select:
    """One row per learner and run with both tests: run_id, person_id, pre, post, gain, passed.

    A Select, so reports can join Person to disaggregate by sex, age band or municipality.
    """
    pre = counted_attempts(QuizKind.PRE_TEST, run_ids)
    post = counted_attempts(QuizKind.POST_TEST, run_ids)
    return sa.select(
        pre.c.run_id,
        pre.c.person_id,
        pre.c.percent.label("pre"),
        post.c.percent.label("post"),
        (post.c.percent - pre.c.percent).label("gain"),
        sa.case((post.c.percent + 1e-9 >= post.c.pass_mark, 1), else_=0).label("passed"),
    ).join(post, sa.and_(post.c.run_id == pre.c.run_id, post.c.person_id == pre.c.person_id))


@dataclass(frozen=True)
class KnowledgeGain:
    learners: int  # with both a pre-test and a post-test
    reached_pass_mark: int
    mean_pre: float | None
    mean_post: float | None
    mean_gain: float | None
    improved: int = 0  # post above pre

    @property
    def share_reached(self) -> float | None:
        return self.reached_pass_mark / self.learners if self.learners else None

    @property
    def share_improved(self) -> float | None:
        return self.improved / self.learners if self.learners else None


def knowledge_gain(run_ids: RunIds = None) -> KnowledgeGain:
    """The donors' level-2 indicator over the given runs (a list of ids or a Select of ids)."""
    pairs = gain_pairs(run_ids).subquery()
    row = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(pairs.c.passed), 0),
            sa.func.avg(pairs.c.pre),
            sa.func.avg(pairs.c.post),
            sa.func.avg(pairs.c.gain),
            sa.func.count().filter(pairs.c.gain > 0),
        )
    ).one()

    def rounded(value):
        return None if value is None else round(float(value), 2)

    return KnowledgeGain(
        learners=row[0],
        reached_pass_mark=int(row[1]),
        mean_pre=rounded(row[2]),
        mean_post=rounded(row[3]),
        mean_gain=rounded(row[4]),
        improved=row[5],
    )


@dataclass
class LearnerGain:
    person_id: int
    name: str
    pre: float | None
    post: float | None
    gain: float | None
    reached: bool | None


def learner_gains(run_id: int, person_id: int | None = None) -> list[LearnerGain]:
    """Every enrolled learner (and anyone who sat a test) with pre, post, gain: one query."""
    pre = counted_attempts(QuizKind.PRE_TEST, [run_id])
    post = counted_attempts(QuizKind.POST_TEST, [run_id])
    people = sa.union(
        sa.select(Enrollment.person_id).where(
            Enrollment.run_id == run_id, Enrollment.status == EnrollmentStatus.ENROLLED
        ),
        sa.select(pre.c.person_id),
        sa.select(post.c.person_id),
    ).subquery()
    query = (
        sa.select(
            Person.id,
            Person.first_name,
            Person.last_name,
            pre.c.percent,
            post.c.percent,
            post.c.pass_mark,
        )
        .join(people, people.c.person_id == Person.id)
        .outerjoin(pre, pre.c.person_id == Person.id)
        .outerjoin(post, post.c.person_id == Person.id)
        .order_by(Person.last_name, Person.first_name, Person.id)
    )
    if person_id is not None:
        query = query.where(Person.id == person_id)
    result = []
    for pid, first, last, pre_pct, post_pct, mark in db.session.execute(query):
        both = pre_pct is not None and post_pct is not None
        result.append(
            LearnerGain(
                person_id=pid,
                name=f"{last}, {first}",
                pre=pre_pct,
                post=post_pct,
                gain=round(post_pct - pre_pct, 2) if both else None,
                reached=(post_pct + 1e-9 >= mark) if post_pct is not None else None,
            )
        )
    return result


@dataclass
class ShareCorrect:
    key: object
    before_correct: int = 0
    before_total: int = 0
    after_correct: int = 0
    after_total: int = 0

    @property
    def before(self) -> float | None:
        return 100.0 * self.before_correct / self.before_total if self.before_total else None

    @property
    def after(self) -> float | None:
        return 100.0 * self.after_correct / self.after_total if self.after_total else None


def share_correct(run_ids: RunIds) -> tuple[dict[int, ShareCorrect], dict[str, ShareCorrect]]:
    """Share answered fully right before (pre-test) and after (post-test), per question and
    per DigComp competence, over the counted attempts: one query."""
    phases = sa.union_all(
        sa.select(
            counted_attempts(QuizKind.PRE_TEST, run_ids).c.attempt_id, sa.literal(0).label("after")
        ),
        sa.select(
            counted_attempts(QuizKind.POST_TEST, run_ids).c.attempt_id, sa.literal(1).label("after")
        ),
    ).subquery()
    correct = sa.func.sum(
        sa.case((AttemptSlot.score >= AttemptSlot.points - _CORRECT_SLACK, 1), else_=0)
    )
    rows = db.session.execute(
        sa.select(
            phases.c.after,
            AttemptSlot.question_id,
            Question.competence,
            sa.func.count(AttemptSlot.id),
            correct,
        )
        .join(AttemptSlot, AttemptSlot.attempt_id == phases.c.attempt_id)
        .join(Question, Question.id == AttemptSlot.question_id)
        .group_by(phases.c.after, AttemptSlot.question_id, Question.competence)
    )
    by_question: dict[int, ShareCorrect] = {}
    by_competence: dict[str, ShareCorrect] = {}
    for after, question_id, competence, total, right in rows:
        for table, key in ((by_question, question_id), (by_competence, competence)):
            item = table.setdefault(key, ShareCorrect(key))
            if after:
                item.after_total += total
                item.after_correct += int(right or 0)
            else:
                item.before_total += total
                item.before_correct += int(right or 0)
    return by_question, dict(sorted(by_competence.items()))


def pre_post_quizzes(run_id: int) -> tuple[Quiz | None, Quiz | None]:
    quizzes = db.session.scalars(
        sa.select(Quiz).where(
            Quiz.run_id == run_id, Quiz.kind.in_((QuizKind.PRE_TEST, QuizKind.POST_TEST))
        )
    ).all()
    by_kind = {q.kind: q for q in quizzes}
    return by_kind.get(QuizKind.PRE_TEST), by_kind.get(QuizKind.POST_TEST)


def attempt_counts(run_id: int) -> dict[int, sa.Row]:
    """Per quiz of the run: graded attempts, open attempts, learners: one query."""
    final = Attempt.state.in_(FINAL_STATES)
    rows = db.session.execute(
        sa.select(
            Quiz.id,
            sa.func.count(Attempt.id).filter(final).label("graded"),
            sa.func.count(Attempt.id).filter(Attempt.state == AttemptState.OPEN).label("open"),
            sa.func.count(sa.distinct(Attempt.person_id)).label("learners"),
        )
        .outerjoin(Attempt, Attempt.quiz_id == Quiz.id)
        .where(Quiz.run_id == run_id)
        .group_by(Quiz.id)
    )
    return {row[0]: row for row in rows}
