"""Question banks in curriculum files: validation with lines, the shipped banks, the sync."""

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.courses.curriculum import CurriculumError
from app.courses.digcomp import COMPETENCES
from app.extensions import db
from app.quizzes.banks import load_banks
from app.quizzes.models import Question, QuestionBank
from app.quizzes.types import get_type

REPO_CURRICULUM = Path(__file__).resolve().parents[2] / "curriculum"

BANK = """\
title:
  en: Checks
  sq: Kontrolle
questions:
  - id: one
    type: single_choice
    competence: "4.2"
    level: 3
    text:
      en: Pick one
      sr_Latn: Izaberite jedan
    choices:
      - text: Right
        correct: true
      - Wrong
  - id: two
    type: true_false
    competence: "4.1"
    level: 2
    text: Is it true?
    answer: false
"""


def write_bank(root: Path, text: str, course="test-course", name="checks.yml") -> Path:
    folder = root / course / "questions"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_problems(root: Path) -> list[str]:
    with pytest.raises(CurriculumError) as caught:
        load_banks(root)
    return [str(p) for p in caught.value.problems]


def test_bank_file_is_parsed(tmp_path):
    write_bank(tmp_path, BANK)
    (spec,) = load_banks(tmp_path)
    assert spec.slug == "checks"
    assert spec.titles == {"en": "Checks", "sq": "Kontrolle"}
    first, second = spec.questions
    assert first.texts == {"en": "Pick one", "sr": "Izaberite jedan"}
    assert [c["weight"] for c in first.data["choices"]] == [100.0, 0.0]
    assert second.data == {"answer": False}
    assert second.texts == {"en": "Is it true?"}


def test_multiple_choice_weights_default_to_equal_shares(tmp_path):
    write_bank(
        tmp_path,
        BANK.replace("type: single_choice", "type: multiple_choice").replace(
            "      - Wrong",
            "      - {text: Also right, correct: true}\n      - Wrong\n      - Nope",
        ),
    )
    (spec,) = load_banks(tmp_path)
    assert [c["weight"] for c in spec.questions[0].data["choices"]] == [50.0, 50.0, -50.0, -50.0]


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        (('competence: "4.2"', 'competence: "9.9"'), 7, "DigComp 2.2 code"),
        (('competence: "4.2"', "competence: 4.2"), 7, None),  # a number, still valid text 4.2
        (("level: 3", "level: 9"), 8, "from 1 to 8"),
        (("type: single_choice", "type: essay"), 6, "'type' must be one of"),
        (("id: one", "id: One Two"), 5, "'id' must be lowercase"),
        (("      - Wrong\n", ""), 12, "at least two choices"),
        (("        correct: true\n", ""), 12, "exactly one correct choice"),
        (("      en: Pick one\n", ""), 9, "'text.en' is missing"),
        (
            ("      sr_Latn: Izaberite jedan", "      sr: Izaberite jedan"),
            11,
            "unknown language 'sr'",
        ),
        (("answer: false", "answer: maybe"), 21, "'answer' must be true or false"),
        (("id: two", "id: one"), 16, "is used twice"),
    ],
)
def test_malformed_bank_names_file_line_and_reason(tmp_path, change, line, reason):
    write_bank(tmp_path, BANK.replace(*change))
    if reason is None:
        assert load_banks(tmp_path)
        return
    found = load_problems(tmp_path)
    assert any(
        p.startswith(f"test-course/questions/checks.yml:{line}: ") and reason in p for p in found
    ), found


def test_invalid_yaml_is_reported_with_its_line(tmp_path):
    write_bank(tmp_path, BANK.replace("    answer: false", "    answer: [false"))
    (problem,) = load_problems(tmp_path)
    assert problem.startswith("test-course/questions/checks.yml:")
    assert "not valid YAML" in problem


def test_type_specific_problems(tmp_path):
    text = """\
title: T
questions:
  - {id: n, type: numerical, competence: "1.1", level: 1, text: N, answers: [{min: 5, max: 1}]}
  - {id: m, type: matching, competence: "1.1", level: 1, text: M, pairs: [{item: a, match: b}]}
  - {id: s, type: short_answer, competence: "1.1", level: 1, text: S, answers: [{text: x, weight: 50}]}
  - {id: w, type: multiple_choice, competence: "1.1", level: 1, text: W, choices: [{text: a, weight: 50}, {text: b, weight: 20}]}
"""
    write_bank(tmp_path, text)
    found = load_problems(tmp_path)
    assert any(":3: question 'n': a range's lower end" in p for p in found)
    assert any(":4: question 'm': 'pairs' must list at least two" in p for p in found)
    assert any(":5: question 's': needs one accepted answer worth 100%" in p for p in found)
    assert any(":6: question 'w': the positive weights must add up to 100%" in p for p in found)


def test_bank_for_an_unknown_course_is_refused(tmp_path):
    write_bank(tmp_path, BANK, course="ghost")
    with pytest.raises(CurriculumError) as caught:
        load_banks(tmp_path, {"real-course"})
    assert "no course 'ghost'" in str(caught.value)


def test_shipped_banks_are_valid_and_rich():
    specs = load_banks(REPO_CURRICULUM)
    courses = {s.course_slug for s in specs}
    shipped = {p.name for p in REPO_CURRICULUM.iterdir() if (p / "course.yml").is_file()}
    assert shipped <= courses, "every course needs a question bank"
    for spec in specs:
        questions = spec.questions
        assert len(questions) >= 12, spec.course_slug
        assert len({q.qtype for q in questions}) >= 5, spec.course_slug
        assert all(q.competence in COMPETENCES and 1 <= q.level <= 8 for q in questions)
        translated = [q for q in questions if {"sq", "sr"} <= q.texts.keys()]
        assert len(translated) * 2 >= len(questions), spec.course_slug
        for q in questions:
            assert get_type(q.qtype).check(q.data) == []


# --- the sync command --------------------------------------------------------------------------


def copy_curriculum(tmp_path: Path) -> Path:
    root = tmp_path / "curriculum"
    shutil.copytree(REPO_CURRICULUM, root)
    return root


def test_sync_loads_courses_and_banks_and_is_idempotent(runner, tmp_path):
    root = copy_curriculum(tmp_path)
    result = runner.invoke(args=["curriculum", "sync", "--path", str(root)])
    assert result.exit_code == 0, result.output
    assert "questions cyber-hygiene-public-servants/knowledge-check: 15 added" in result.output
    banks = db.session.scalars(sa.select(QuestionBank)).all()
    assert len(banks) == 4
    assert db.session.scalar(sa.select(sa.func.count(Question.id))) >= 48
    again = runner.invoke(args=["curriculum", "sync", "--path", str(root)])
    assert again.exit_code == 0
    assert "questions" not in again.output  # nothing changed


def test_sync_updates_and_retires_questions(runner, tmp_path):
    root = copy_curriculum(tmp_path)
    assert runner.invoke(args=["curriculum", "sync", "--path", str(root)]).exit_code == 0
    path = root / "cyber-hygiene-public-servants" / "questions" / "knowledge-check.yml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: access-request")
    path.write_text(
        text[:start].replace("Which of these passwords", "Which password"), encoding="utf-8"
    )
    result = runner.invoke(args=["curriculum", "sync", "--path", str(root)])
    assert result.exit_code == 0, result.output
    assert "0 added, 1 updated, 1 retired" in result.output
    retired = db.session.scalar(sa.select(Question).where(Question.key == "access-request"))
    assert retired.active is False


def test_malformed_bank_refuses_the_whole_sync(runner, tmp_path):
    root = copy_curriculum(tmp_path)
    path = root / "open-data-publishing" / "questions" / "knowledge-check.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('competence: "1.3"', 'competence: "7.7"', 1),
        encoding="utf-8",
    )
    result = runner.invoke(args=["curriculum", "sync", "--path", str(root)])
    assert result.exit_code != 0
    assert "open-data-publishing/questions/knowledge-check.yml:" in result.output
    assert "nothing was changed" in result.output
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(QuestionBank.id))) == 0
    from app.courses.models import Course

    assert db.session.scalar(sa.select(sa.func.count(Course.id))) == 0
