import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.courses.curriculum import CurriculumError, load_curriculum, sync_curriculum
from app.courses.models import Course, Lesson
from app.extensions import db

REPO_CURRICULUM = Path(__file__).resolve().parents[2] / "curriculum"

COURSE = """\
slug: {slug}
code: {code}
title:
  en: Test course
  sq: Kurs testimi
  sr_Latn: Test kurs
summary:
  en: A short summary.
description:
  en: |
    Some **Markdown**.
hours: 6
level: 2
competences: ["4.2", "1.1"]
topics: [privacy]
audience: [municipal_official]
modules:
  - slug: first
    title:
      en: First module
    lessons:
      - slug: intro
        title:
          en: Introduction
        file: lessons/01-intro.md
        minutes: 30
"""


def make_course(root: Path, slug="test-course", code="TT-101", text=None, lesson="# Hello\n"):
    folder = root / slug
    (folder / "lessons").mkdir(parents=True)
    (folder / "course.yml").write_text(
        text or COURSE.format(slug=slug, code=code), encoding="utf-8"
    )
    (folder / "lessons" / "01-intro.md").write_text(lesson, encoding="utf-8")
    return folder


def test_shipped_curriculum_is_valid_and_has_four_courses():
    specs = load_curriculum(REPO_CURRICULUM)
    assert len(specs) >= 4
    for spec in specs:
        assert {"en", "sq", "sr"} <= spec.titles.keys()
        assert sum(len(m.lessons) for m in spec.modules) >= 3


def test_sync_creates_then_reports_unchanged(tmp_path):
    make_course(tmp_path)
    report = sync_curriculum(load_curriculum(tmp_path))
    assert report.created == ["test-course"]
    course = db.session.scalar(sa.select(Course).where(Course.slug == "test-course"))
    assert course.title_sq == "Kurs testimi" and course.competence_codes == ["1.1", "4.2"]
    again = sync_curriculum(load_curriculum(tmp_path))
    assert again.unchanged == ["test-course"] and not again.updated


def test_sync_updates_by_slug_and_reports_lesson_changes(tmp_path):
    folder = make_course(tmp_path)
    sync_curriculum(load_curriculum(tmp_path))
    db.session.commit()
    (folder / "lessons" / "01-intro.md").write_text("# Changed\n", encoding="utf-8")
    report = sync_curriculum(load_curriculum(tmp_path))
    assert report.updated == ["test-course"]
    assert "lesson changed: intro" in report.details["test-course"]
    assert db.session.scalar(sa.select(sa.func.count(Course.id))) == 1
    assert db.session.scalar(sa.select(Lesson.body_md)) == "# Changed\n"


@pytest.mark.parametrize(
    "broken,line,fragment",
    [
        (
            COURSE.format(slug="test-course", code="TT-101").replace("hours: 6", "hours: many"),
            12,
            "hours",
        ),
        (
            COURSE.format(slug="test-course", code="TT-101").replace('["4.2", "1.1"]', '["9.9"]'),
            14,
            "9.9",
        ),
        (
            COURSE.format(slug="test-course", code="TT-101").replace(
                "lessons/01-intro.md", "lessons/nope.md"
            ),
            25,
            "nope.md",
        ),
        (
            COURSE.format(slug="test-course", code="TT-101").replace("  en: Test course\n", ""),
            3,
            "title.en",
        ),
        (
            COURSE.format(slug="test-course", code="TT-101").replace("level: 2", "level: [2"),
            14,
            "YAML",
        ),
        (
            COURSE.format(slug="test-course", code="TT-101").replace(
                "slug: test-course", "slug: other"
            ),
            1,
            "folder",
        ),
    ],
)
def test_malformed_file_is_refused_with_file_and_line(tmp_path, broken, line, fragment):
    make_course(tmp_path, text=broken)
    with pytest.raises(CurriculumError) as error:
        load_curriculum(tmp_path)
    problem = error.value.problems[0]
    assert problem.path.endswith("test-course/course.yml")
    assert problem.line == line, str(problem)
    assert fragment in problem.message


def test_one_bad_course_changes_nothing(tmp_path, runner):
    make_course(tmp_path, slug="good-one", code="TT-101")
    make_course(
        tmp_path,
        slug="bad-one",
        code="TT-102",
        text=COURSE.format(slug="bad-one", code="TT-102").replace("hours: 6", "hours: -1"),
    )
    result = runner.invoke(args=["curriculum", "sync", "--path", str(tmp_path)])
    assert result.exit_code != 0
    assert "bad-one/course.yml:12" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Course.id))) == 0


def test_lesson_file_outside_course_folder_is_refused(tmp_path):
    text = COURSE.format(slug="test-course", code="TT-101").replace(
        "lessons/01-intro.md", "../../etc.md"
    )
    make_course(tmp_path, text=text)
    with pytest.raises(CurriculumError, match="inside the course folder"):
        load_curriculum(tmp_path)


def test_cli_sync_of_shipped_curriculum(runner, tmp_path):
    shutil.copytree(REPO_CURRICULUM, tmp_path / "c")
    result = runner.invoke(args=["curriculum", "sync", "--path", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert "4 created" in result.output
