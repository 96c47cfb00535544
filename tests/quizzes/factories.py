"""Question banks, quizzes and learners for quiz tests."""

from datetime import timedelta

from app.courses.models import Course, CourseRun
from app.enrollment.services import enrol
from app.extensions import db
from app.quizzes import services
from app.quizzes.banks import QuestionDraft, apply_drafts, matching_data
from app.quizzes.models import BankSource, QuestionBank, Quiz, QuizKind, ShowWhen
from app.timeutil import utcnow
from tests.conftest import create_user

# Distinctive right answers, so tests can scan pages for them.
SHORT_ANSWER = "quetzalcoatl"
NUMBER = 7319
FEEDBACK = "Feedback-only-after-submission"


def draft(key, qtype, data, competence="4.2", text=None, **extra) -> QuestionDraft:
    return QuestionDraft(
        key=key,
        qtype=qtype,
        competence=competence,
        level=3,
        texts={"en": text or f"Question {key}?", "sq": f"Pyetja {key}?"},
        data=data,
        **extra,
    )


def choice(n, text, weight=0.0, feedback=None):
    item = {"id": f"c{n}", "text": {"en": text}, "weight": weight}
    if feedback:
        item["feedback"] = {"en": feedback}
    return item


def sample_drafts() -> list[QuestionDraft]:
    """One question of every type, two competences."""
    return [
        draft(
            "single",
            "single_choice",
            {
                "choices": [
                    choice(1, "Right choice", 100, FEEDBACK),
                    choice(2, "Wrong choice"),
                    choice(3, "Other wrong"),
                ]
            },
        ),
        draft(
            "multi",
            "multiple_choice",
            {
                "choices": [
                    choice(1, "Good A", 50),
                    choice(2, "Good B", 50),
                    choice(3, "Bad C", -100),
                ]
            },
        ),
        draft("truefalse", "true_false", {"answer": True}, competence="4.1"),
        draft(
            "short",
            "short_answer",
            {"answers": [{"text": SHORT_ANSWER, "weight": 100, "feedback": {"en": FEEDBACK}}]},
            competence="4.1",
        ),
        draft(
            "number",
            "numerical",
            {"answers": [{"value": NUMBER, "tolerance": 2, "weight": 100}]},
            competence="4.1",
        ),
        draft(
            "match",
            "matching",
            matching_data(
                [({"en": "Alpha"}, {"en": "Uno"}), ({"en": "Beta"}, {"en": "Dos"})],
                [{"en": "Tres"}],
            ),
        ),
    ]


def make_bank(course: Course, drafts=None, slug="bank") -> QuestionBank:
    bank = QuestionBank(
        course=course, slug=slug, title_en="Test bank", source=BankSource.CURRICULUM
    )
    db.session.add(bank)
    db.session.flush()
    apply_drafts(bank, drafts if drafts is not None else sample_drafts(), retire_missing=True)
    db.session.commit()
    return bank


def make_quiz(run: CourseRun, bank: QuestionBank, **settings) -> Quiz:
    values = dict(
        title="Quiz",
        kind=QuizKind.PRACTICE,
        per_competence=None,
        shuffle_questions=True,
        shuffle_choices=True,
        time_limit_minutes=None,
        max_attempts=None,
        pass_mark=50.0,
        opens_at=utcnow() - timedelta(days=1),
        closes_at=None,
        show_results=ShowWhen.AFTER_SUBMIT,
        show_answers=ShowWhen.AFTER_SUBMIT,
    )
    values.update(settings)
    quiz = services.create_quiz(run=run, bank=bank, by=None, **values)
    db.session.commit()
    return quiz


def enrolled_learner(run: CourseRun, **person):
    user = create_user(**person)
    enrol(run=run, person=user.person, by=None)
    db.session.commit()
    return user


def right_values(attempt) -> dict[int, dict[str, list[str]]]:
    """Form values that answer every slot of the attempt fully right, by position."""
    values = {}
    for slot in attempt.slots:
        name = f"q{slot.position}"
        data, layout = slot.question.data, slot.layout
        kind = slot.question.qtype
        if kind in ("single_choice", "multiple_choice"):
            picks = [
                str(i)
                for i, cid in enumerate(layout["choices"])
                if next(c for c in data["choices"] if c["id"] == cid)["weight"] > 0
            ]
            values[slot.position] = {name: picks[:1] if kind == "single_choice" else picks}
        elif kind == "true_false":
            values[slot.position] = {name: ["true" if data["answer"] else "false"]}
        elif kind == "short_answer":
            values[slot.position] = {name: [data["answers"][0]["text"]]}
        elif kind == "numerical":
            answer = data["answers"][0]
            values[slot.position] = {name: [str(answer.get("value", answer.get("min")))]}
        elif kind == "matching":
            answer_of = {i["id"]: i["answer"] for i in data["items"]}
            values[slot.position] = {
                f"{name}-{pos}": [str(layout["options"].index(answer_of[item_id]))]
                for pos, item_id in enumerate(layout["items"])
            }
    return values
