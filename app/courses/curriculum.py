"""Course content from files: parse and validate curriculum/<slug>/course.yml, then upsert by slug.

Everything is validated before anything is written, so a malformed file changes nothing.
"""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
import yaml

from app.extensions import db

from .digcomp import COMPETENCES
from .models import Course, CourseCompetence, CourseTopic, Lesson, Module

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE = re.compile(r"^[A-Z]{2,6}-\d{2,4}$")
TOPIC = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
AUDIENCES = {"municipal_official", "student", "cso", "media", "other"}
LANG_KEYS = {"en": "en", "sq": "sq", "sr_Latn": "sr"}


@dataclass
class CurriculumProblem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class CurriculumError(Exception):
    def __init__(self, problems: list[CurriculumProblem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class _LineLoader(yaml.SafeLoader):
    """Keeps the line of every mapping so errors can point at it."""


def _construct_mapping(loader, node, deep=False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__lines__"] = {k.value: k.start_mark.line + 1 for k, _v in node.value}
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass
class LessonSpec:
    slug: str
    titles: dict[str, str]
    body: str
    minutes: int


@dataclass
class ModuleSpec:
    slug: str
    titles: dict[str, str]
    lessons: list[LessonSpec]


@dataclass
class CourseSpec:
    slug: str
    code: str
    titles: dict[str, str]
    summaries: dict[str, str]
    descriptions: dict[str, str]
    hours: int
    level: int
    competences: list[str]
    topics: list[str]
    audience: list[str]
    modules: list[ModuleSpec]
    digest: str = ""


class _Checker:
    def __init__(self, path: Path, root: Path):
        self.path = path
        self.rel = str(path.relative_to(root.parent)) if root.parent in path.parents else str(path)
        self.problems: list[CurriculumProblem] = []

    def fail(self, line: int, message: str) -> None:
        self.problems.append(CurriculumProblem(self.rel, line, message))

    def line_of(self, mapping: dict, key: str) -> int:
        return mapping.get("__lines__", {}).get(key, mapping.get("__line__", 1))

    def text(self, mapping: dict, key: str, *, required=True, max_len=None) -> str | None:
        value = mapping.get(key)
        if value is None:
            if required:
                self.fail(mapping.get("__line__", 1), f"'{key}' is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(self.line_of(mapping, key), f"'{key}' must be non-empty text")
            return None
        if max_len and len(value.strip()) > max_len:
            self.fail(self.line_of(mapping, key), f"'{key}' is longer than {max_len} characters")
        return value.strip()

    def translations(self, mapping: dict, key: str, *, max_len=None, all_required=False) -> dict:
        value = mapping.get(key)
        line = self.line_of(mapping, key)
        if not isinstance(value, dict):
            self.fail(
                line if key in mapping else mapping.get("__line__", 1),
                f"'{key}' must map languages (en, sq, sr_Latn) to text",
            )
            return {}
        result = {}
        for lang, text in value.items():
            if lang.startswith("__"):
                continue
            if lang not in LANG_KEYS:
                self.fail(
                    self.line_of(value, lang),
                    f"unknown language '{lang}' in '{key}' (use en, sq, sr_Latn)",
                )
                continue
            if not isinstance(text, str) or not text.strip():
                self.fail(self.line_of(value, lang), f"'{key}.{lang}' must be non-empty text")
                continue
            if max_len and len(text.strip()) > max_len:
                self.fail(
                    self.line_of(value, lang), f"'{key}.{lang}' is longer than {max_len} characters"
                )
            result[LANG_KEYS[lang]] = text.strip()
        required = LANG_KEYS.values() if all_required else ["en"]
        for lang in required:
            if lang not in result:
                name = {v: k for k, v in LANG_KEYS.items()}[lang]
                self.fail(line, f"'{key}.{name}' is missing")
        return result

    def integer(self, mapping: dict, key: str, low: int, high: int, default=None) -> int | None:
        value = mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(
                self.line_of(mapping, key), f"'{key}' must be a whole number from {low} to {high}"
            )
            return None
        return value

    def slug(self, mapping: dict, key="slug") -> str | None:
        value = self.text(mapping, key, max_len=80)
        if value and not SLUG.match(value):
            self.fail(
                self.line_of(mapping, key),
                f"'{key}' must use lowercase letters, digits and hyphens",
            )
        return value


def parse_course(folder: Path, root: Path) -> tuple[CourseSpec | None, list[CurriculumProblem]]:
    path = folder / "course.yml"
    check = _Checker(path, root)
    try:
        raw_text = path.read_text(encoding="utf-8")
        data = yaml.load(raw_text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except UnicodeDecodeError:
        check.fail(1, "the file is not UTF-8 text")
        return None, check.problems
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        check.fail(
            mark.line + 1 if mark else 1, f"not valid YAML: {getattr(error, 'problem', error)}"
        )
        return None, check.problems
    if not isinstance(data, dict):
        check.fail(1, "the file must be a YAML mapping of course fields")
        return None, check.problems

    slug = check.slug(data)
    if slug and slug != folder.name:
        check.fail(
            check.line_of(data, "slug"), f"slug '{slug}' must equal the folder name '{folder.name}'"
        )
    code = check.text(data, "code", max_len=20)
    if code and not CODE.match(code):
        check.fail(check.line_of(data, "code"), "'code' must look like AK-101")
    titles = check.translations(data, "title", max_len=200)
    summaries = check.translations(data, "summary")
    descriptions = check.translations(data, "description")
    hours = check.integer(data, "hours", 1, 500)
    level = check.integer(data, "level", 1, 8)
    competences = _string_list(check, data, "competences")
    for code_ in competences:
        if code_ not in COMPETENCES:
            check.fail(
                check.line_of(data, "competences"),
                f"'{code_}' is not a DigComp 2.2 competence code",
            )
    if not competences and "competences" in data:
        check.fail(check.line_of(data, "competences"), "'competences' must list at least one code")
    topics = _string_list(check, data, "topics", required=False)
    for topic in topics:
        if not TOPIC.match(topic) or len(topic) > 40:
            check.fail(
                check.line_of(data, "topics"),
                f"topic '{topic}' must be lowercase words joined by hyphens",
            )
    audience = _string_list(check, data, "audience", required=False)
    for item in audience:
        if item not in AUDIENCES:
            check.fail(
                check.line_of(data, "audience"),
                f"audience '{item}' must be one of {', '.join(sorted(AUDIENCES))}",
            )
    modules = _parse_modules(check, data, folder)
    if check.problems:
        return None, check.problems
    spec = CourseSpec(
        slug,
        code,
        titles,
        summaries,
        descriptions,
        hours,
        level,
        competences,
        topics,
        audience,
        modules,
    )
    spec.digest = _digest(spec)
    return spec, []


def _string_list(check: _Checker, data: dict, key: str, required=True) -> list[str]:
    value = data.get(key)
    if value is None:
        if required:
            check.fail(data.get("__line__", 1), f"'{key}' is missing")
        return []
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        check.fail(check.line_of(data, key), f"'{key}' must be a list")
        return []
    return [str(v).strip() for v in value]


def _parse_modules(check: _Checker, data: dict, folder: Path) -> list[ModuleSpec]:
    raw = data.get("modules")
    if not isinstance(raw, list) or not raw:
        check.fail(
            check.line_of(data, "modules") if "modules" in data else data.get("__line__", 1),
            "'modules' must list at least one module",
        )
        return []
    modules, module_slugs, lesson_slugs = [], set(), set()
    for item in raw:
        if not isinstance(item, dict):
            check.fail(check.line_of(data, "modules"), "each module must be a mapping")
            continue
        slug = check.slug(item)
        if slug in module_slugs:
            check.fail(check.line_of(item, "slug"), f"module slug '{slug}' is used twice")
        module_slugs.add(slug)
        titles = check.translations(item, "title", max_len=200)
        lessons = []
        raw_lessons = item.get("lessons")
        if not isinstance(raw_lessons, list) or not raw_lessons:
            check.fail(item.get("__line__", 1), "a module must list at least one lesson")
            raw_lessons = []
        for lesson in raw_lessons:
            if not isinstance(lesson, dict):
                check.fail(item.get("__line__", 1), "each lesson must be a mapping")
                continue
            lslug = check.slug(lesson)
            if lslug in lesson_slugs:
                check.fail(check.line_of(lesson, "slug"), f"lesson slug '{lslug}' is used twice")
            lesson_slugs.add(lslug)
            ltitles = check.translations(lesson, "title", max_len=200)
            minutes = check.integer(lesson, "minutes", 5, 600, default=45)
            body = _lesson_body(check, lesson, folder)
            lessons.append(LessonSpec(lslug, ltitles, body, minutes))
        modules.append(ModuleSpec(slug, titles, lessons))
    return modules


def _lesson_body(check: _Checker, lesson: dict, folder: Path) -> str:
    rel = check.text(lesson, "file")
    if not rel:
        return ""
    target = (folder / rel).resolve()
    if folder.resolve() not in target.parents or target.suffix != ".md":
        check.fail(
            check.line_of(lesson, "file"), f"'{rel}' must be a .md file inside the course folder"
        )
        return ""
    if not target.is_file():
        check.fail(check.line_of(lesson, "file"), f"lesson file '{rel}' does not exist")
        return ""
    try:
        body = target.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        check.fail(check.line_of(lesson, "file"), f"lesson file '{rel}' is not UTF-8 text")
        return ""
    if not body.strip():
        check.fail(check.line_of(lesson, "file"), f"lesson file '{rel}' is empty")
    return body


def _digest(spec: CourseSpec) -> str:
    parts = [
        repr(
            (
                spec.slug,
                spec.code,
                sorted(spec.titles.items()),
                sorted(spec.summaries.items()),
                sorted(spec.descriptions.items()),
                spec.hours,
                spec.level,
                spec.competences,
                spec.topics,
                spec.audience,
            )
        )
    ]
    for module in spec.modules:
        parts.append(repr((module.slug, sorted(module.titles.items()))))
        for lesson in module.lessons:
            parts.append(
                repr((lesson.slug, sorted(lesson.titles.items()), lesson.body, lesson.minutes))
            )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def load_curriculum(root: Path) -> list[CourseSpec]:
    """Parse every course folder; raise CurriculumError listing every problem found."""
    if not root.is_dir():
        raise CurriculumError(
            [CurriculumProblem(str(root), 0, "the curriculum folder does not exist")]
        )
    specs, problems, codes = [], [], {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (folder / "course.yml").is_file():
            continue
        spec, found = parse_course(folder, root)
        problems += found
        if spec:
            if spec.code in codes:
                problems.append(
                    CurriculumProblem(
                        f"{folder.name}/course.yml",
                        1,
                        f"code {spec.code} is also used by {codes[spec.code]}",
                    )
                )
            codes[spec.code] = spec.slug
            specs.append(spec)
    if problems:
        raise CurriculumError(problems)
    return specs


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    details: dict[str, list[str]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"created: {s}" for s in self.created] + [f"updated: {s}" for s in self.updated]
        for slug, items in self.details.items():
            out += [f"  {slug}: {item}" for item in items]
        out.append(
            f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged"
        )
        return out


def _set_translations(obj, field_name: str, values: dict[str, str]) -> None:
    for suffix in ("en", "sq", "sr"):
        setattr(obj, f"{field_name}_{suffix}", values.get(suffix))


def sync_curriculum(specs: list[CourseSpec]) -> SyncReport:
    """Upsert courses, modules and lessons by slug; flushes, the caller commits."""
    report = SyncReport()
    existing = {c.slug: c for c in db.session.scalars(sa.select(Course))}
    for spec in specs:
        course = existing.get(spec.slug)
        if course is not None and course.content_hash == spec.digest:
            report.unchanged.append(spec.slug)
            continue
        details = []
        if course is None:
            clash = db.session.scalar(sa.select(Course).where(Course.code == spec.code))
            if clash is not None:
                raise CurriculumError(
                    [
                        CurriculumProblem(
                            f"{spec.slug}/course.yml",
                            1,
                            f"code {spec.code} belongs to course '{clash.slug}' in the database",
                        )
                    ]
                )
            course = Course(slug=spec.slug)
            db.session.add(course)
            report.created.append(spec.slug)
        else:
            report.updated.append(spec.slug)
        course.code = spec.code
        _set_translations(course, "title", spec.titles)
        _set_translations(course, "summary", spec.summaries)
        _set_translations(course, "description", spec.descriptions)
        course.hours, course.level = spec.hours, spec.level
        course.audience = ",".join(spec.audience)
        course.content_hash = spec.digest
        if course.competence_codes != sorted(spec.competences):
            course.competences = [CourseCompetence(code=c) for c in sorted(set(spec.competences))]
        if course.topic_names != sorted(spec.topics):
            course.topics = [CourseTopic(topic=t) for t in sorted(set(spec.topics))]
        _sync_modules(course, spec, details)
        if details:
            report.details[spec.slug] = details
    db.session.flush()
    return report


def _sync_modules(course: Course, spec: CourseSpec, details: list[str]) -> None:
    modules = {m.slug: m for m in course.modules}
    kept = []
    for position, mspec in enumerate(spec.modules, start=1):
        module = modules.pop(mspec.slug, None)
        if module is None:
            module = Module(slug=mspec.slug)
            details.append(f"module added: {mspec.slug}")
        module.position = position
        _set_translations(module, "title", mspec.titles)
        lessons = {lesson.slug: lesson for lesson in module.lessons}
        kept_lessons = []
        for lpos, lspec in enumerate(mspec.lessons, start=1):
            lesson = lessons.pop(lspec.slug, None)
            if lesson is None:
                lesson = Lesson(slug=lspec.slug)
                details.append(f"lesson added: {lspec.slug}")
            elif lesson.body_md != lspec.body:
                details.append(f"lesson changed: {lspec.slug}")
            lesson.position = lpos
            _set_translations(lesson, "title", lspec.titles)
            lesson.body_md, lesson.minutes = lspec.body, lspec.minutes
            kept_lessons.append(lesson)
        details += [f"lesson removed: {slug}" for slug in lessons]
        module.lessons = kept_lessons
        kept.append(module)
    details += [f"module removed: {slug}" for slug in modules]
    course.modules = kept
