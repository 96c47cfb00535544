"""Question banks kept as files: curriculum/<course>/questions/<bank>.yml.

`load_banks` parses and validates every bank file and raises CurriculumError listing each
problem as file:line: reason; `sync_banks` then upserts banks and questions by their ids.
Validation happens before anything is written, so one malformed question changes nothing.

A bank file (the file name is the bank's slug):

    title: {en: Knowledge check, sq: Kontrolli i njohurive, sr_Latn: Provera znanja}
    questions:
      - id: strong-passphrase          # stable key: lowercase words joined by hyphens
        type: single_choice            # see app/quizzes/types.py for every type
        competence: "4.1"              # DigComp 2.2 code, quoted
        level: 3                       # 1-8
        points: 1                      # optional, default 1
        text: {en: ..., sq: ..., sr_Latn: ...}   # or plain text (English)
        feedback: {en: ...}            # optional, shown with the answers
        choices:                       # single_choice, multiple_choice
          - {text: {en: ...}, correct: true, feedback: {en: ...}}
          - text: ...                  # optional `weight: 50` (percent) instead of `correct`
      - {id: ..., type: true_false, answer: false, feedback_true: ..., feedback_false: ...}
      - {id: ..., type: short_answer, answers: [phishing, {text: "spear*", weight: 50}]}
      - {id: ..., type: numerical, answers: [{value: 72, tolerance: 2}, {min: 60, max: 80, weight: 50}]}
      - {id: ..., type: matching, pairs: [{item: ..., match: ...}, ...], distractors: [...]}

A multiple-choice question splits 100% among its correct choices and takes the same away
for wrong ones, unless weights are given. Short answers ignore case and surrounding spaces;
`*` matches any characters.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
import yaml

from app.courses.curriculum import CurriculumError, CurriculumProblem
from app.courses.digcomp import COMPETENCES
from app.courses.models import Course
from app.extensions import db
from app.timeutil import utcnow

from .models import BankSource, Question, QuestionBank
from .types import TYPES, get_type

KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANGS = {"en": "en", "sq": "sq", "sr_Latn": "sr"}
TEXT_FORMATS = ("markdown", "plain")


@dataclass
class QuestionDraft:
    """A validated question, from a YAML bank or a GIFT file, ready to be saved."""

    key: str
    qtype: str
    competence: str
    level: int
    texts: dict[str, str]
    data: dict
    feedback: dict[str, str] = field(default_factory=dict)
    points: float = 1.0
    title: str | None = None
    category: str | None = None
    text_format: str = "markdown"
    line: int = 0

    def digest_parts(self) -> tuple:
        return (
            self.key,
            self.qtype,
            self.competence,
            self.level,
            sorted(self.texts.items()),
            json.dumps(self.data, sort_keys=True, ensure_ascii=False),
            sorted(self.feedback.items()),
            self.points,
            self.title,
            self.category,
            self.text_format,
        )


@dataclass
class BankSpec:
    course_slug: str
    slug: str
    titles: dict[str, str]
    questions: list[QuestionDraft]
    path: str = ""
    digest: str = ""


class _Lines(yaml.SafeLoader):
    """Records the line of every mapping and of each of its keys."""


def _mapping(loader, node, deep=False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__lines__"] = {k.value: k.start_mark.line + 1 for k, _v in node.value}
    return mapping


_Lines.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _clean(value):
    """Drop the line bookkeeping from parsed YAML."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class _Check:
    def __init__(self, rel: str):
        self.rel = rel
        self.problems: list[CurriculumProblem] = []

    def fail(self, line: int, message: str) -> None:
        self.problems.append(CurriculumProblem(self.rel, line, message))

    @staticmethod
    def line(mapping: dict, key: str | None = None) -> int:
        if key is not None and key in mapping.get("__lines__", {}):
            return mapping["__lines__"][key]
        return mapping.get("__line__", 1)

    def texts(self, mapping: dict, key: str, *, required=True, where="") -> dict[str, str]:
        """A translated text: a mapping of en / sq / sr_Latn, or a plain string (English)."""
        value = mapping.get(key)
        line = self.line(mapping, key)
        if value is None:
            if required:
                self.fail(self.line(mapping), f"{where}'{key}' is missing")
            return {}
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value).strip()
            if not text:
                self.fail(line, f"{where}'{key}' must not be empty")
            return {"en": text} if text else {}
        if not isinstance(value, dict):
            self.fail(line, f"{where}'{key}' must be text or a map of en, sq, sr_Latn")
            return {}
        result = {}
        for lang, text in value.items():
            if str(lang).startswith("__"):
                continue
            if lang not in LANGS:
                self.fail(
                    self.line(value, lang),
                    f"{where}unknown language '{lang}' in '{key}' (use en, sq, sr_Latn)",
                )
            elif not isinstance(text, str | int | float) or not str(text).strip():
                self.fail(self.line(value, lang), f"{where}'{key}.{lang}' must be non-empty text")
            else:
                result[LANGS[lang]] = str(text).strip()
        if "en" not in result and not any(p.line == line for p in self.problems):
            self.fail(line, f"{where}'{key}.en' is missing (English is the fallback)")
        return result

    def number(self, mapping: dict, key: str, *, where="", default=None) -> float | None:
        value = mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(self.line(mapping, key), f"{where}'{key}' must be a number")
            return None
        return float(value)


def parse_bank(path: Path, course_slug: str, root: Path) -> tuple[BankSpec | None, list]:
    rel = str(path.relative_to(root)) if root in path.parents else str(path)
    check = _Check(rel)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Lines)  # noqa: S506 - SafeLoader subclass
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
        check.fail(1, "a question bank must be a mapping with 'title' and 'questions'")
        return None, check.problems
    slug = path.stem
    if not KEY.match(slug):
        check.fail(1, f"the file name '{path.name}' must be lowercase words joined by hyphens")
    titles = check.texts(data, "title")
    raw = data.get("questions")
    if not isinstance(raw, list) or not raw:
        check.fail(check.line(data, "questions"), "'questions' must list at least one question")
        raw = []
    drafts, keys = [], set()
    for item in raw:
        if not isinstance(item, dict):
            check.fail(check.line(data, "questions"), "each question must be a mapping")
            continue
        draft = _parse_question(check, item)
        if draft is None:
            continue
        if draft.key in keys:
            check.fail(check.line(item, "id"), f"question id '{draft.key}' is used twice")
        keys.add(draft.key)
        drafts.append(draft)
    if check.problems:
        return None, check.problems
    spec = BankSpec(course_slug, slug, titles, drafts, rel)
    spec.digest = bank_digest(spec.titles, drafts)
    return spec, []


def bank_digest(titles: dict, drafts: list[QuestionDraft]) -> str:
    parts = [repr(sorted(titles.items()))] + [repr(d.digest_parts()) for d in drafts]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _parse_question(check: _Check, item: dict) -> QuestionDraft | None:
    before = len(check.problems)
    line = check.line(item)
    key = item.get("id")
    if not isinstance(key, str) or not KEY.match(key) or len(key) > 120:
        check.fail(check.line(item, "id"), "'id' must be lowercase words joined by hyphens")
        key = "?"
    where = f"question '{key}': "
    qtype = item.get("type")
    if qtype not in TYPES:
        check.fail(
            check.line(item, "type"), f"{where}'type' must be one of {', '.join(sorted(TYPES))}"
        )
        return None
    competence = str(item.get("competence", "")).strip()
    if competence not in COMPETENCES:
        check.fail(
            check.line(item, "competence"),
            f"{where}'competence' must be a DigComp 2.2 code such as \"4.2\" (quoted)",
        )
    level = item.get("level")
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 8:
        check.fail(check.line(item, "level"), f"{where}'level' must be a whole number from 1 to 8")
    points = check.number(item, "points", where=where, default=1)
    if points is not None and not 0 < points <= 100:
        check.fail(check.line(item, "points"), f"{where}'points' must be above 0 and at most 100")
    text_format = item.get("format", "markdown")
    if text_format not in TEXT_FORMATS:
        check.fail(check.line(item, "format"), f"{where}'format' must be markdown or plain")
    texts = check.texts(item, "text", where=where)
    feedback = check.texts(item, "feedback", required=False, where=where)
    data = _DATA_PARSERS[qtype](check, item, where)
    if len(check.problems) > before or data is None:
        return None
    for problem in get_type(qtype).check(data):
        check.fail(line, f"{where}{problem}")
    if len(check.problems) > before:
        return None
    return QuestionDraft(
        key=key,
        qtype=qtype,
        competence=competence,
        level=level,
        texts=texts,
        data=data,
        feedback=feedback,
        points=points,
        title=item.get("title") if isinstance(item.get("title"), str) else None,
        text_format=text_format,
        line=line,
    )


def _choices(check: _Check, item: dict, where: str, multiple: bool) -> dict | None:
    raw = item.get("choices")
    if not isinstance(raw, list) or len(raw) < 2:
        check.fail(check.line(item, "choices"), f"{where}'choices' must list at least two choices")
        return None
    choices, explicit = [], False
    for index, entry in enumerate(raw, start=1):
        if isinstance(entry, str):
            entry = {"text": entry, "__line__": check.line(item, "choices")}
        if not isinstance(entry, dict):
            check.fail(check.line(item, "choices"), f"{where}each choice must be text or a mapping")
            continue
        choice = {
            "id": f"c{index}",
            "text": check.texts(entry, "text", where=where),
            "correct": entry.get("correct", False),
        }
        if not isinstance(choice["correct"], bool):
            check.fail(check.line(entry, "correct"), f"{where}'correct' must be true or false")
        if "weight" in entry:
            explicit = True
            choice["weight"] = check.number(entry, "weight", where=where) or 0.0
        feedback = check.texts(entry, "feedback", required=False, where=where)
        if feedback:
            choice["feedback"] = feedback
        choices.append(choice)
    correct = [c for c in choices if c["correct"]]
    if not multiple and not explicit and len(correct) != 1:
        check.fail(
            check.line(item, "choices"),
            f"{where}a single-choice question needs exactly one correct choice",
        )
    if multiple and not explicit and not correct:
        check.fail(check.line(item, "choices"), f"{where}mark at least one choice correct")
    for choice in choices:
        if "weight" not in choice:
            if choice["correct"]:
                choice["weight"] = 100.0 / len(correct) if multiple else 100.0
            else:
                wrong = len(choices) - len(correct)
                # Wrong picks cost as much as right ones earn, so ticking everything scores 0.
                choice["weight"] = -100.0 / wrong if multiple and wrong else 0.0
        del choice["correct"]
    return {"choices": choices}


def _true_false(check: _Check, item: dict, where: str) -> dict | None:
    answer = item.get("answer")
    if not isinstance(answer, bool):
        check.fail(check.line(item, "answer"), f"{where}'answer' must be true or false")
        return None
    data = {"answer": answer}
    for key in ("feedback_true", "feedback_false"):
        texts = check.texts(item, key, required=False, where=where)
        if texts:
            data[key] = texts
    return data


def _short_answer(check: _Check, item: dict, where: str) -> dict | None:
    raw = item.get("answers")
    if not isinstance(raw, list) or not raw:
        check.fail(check.line(item, "answers"), f"{where}'answers' must list the accepted answers")
        return None
    answers = []
    for entry in raw:
        if isinstance(entry, str | int | float) and not isinstance(entry, bool):
            answers.append({"text": str(entry).strip(), "weight": 100.0})
            continue
        if not isinstance(entry, dict) or not str(entry.get("text", "")).strip():
            check.fail(check.line(item, "answers"), f"{where}each answer needs a 'text'")
            continue
        answer = {
            "text": str(entry["text"]).strip(),
            "weight": check.number(entry, "weight", where=where, default=100) or 0.0,
        }
        feedback = check.texts(entry, "feedback", required=False, where=where)
        if feedback:
            answer["feedback"] = feedback
        answers.append(answer)
    return {"answers": answers}


def _numerical(check: _Check, item: dict, where: str) -> dict | None:
    raw = item.get("answers")
    if not isinstance(raw, list) or not raw:
        check.fail(check.line(item, "answers"), f"{where}'answers' must list accepted numbers")
        return None
    answers = []
    for entry in raw:
        if isinstance(entry, int | float) and not isinstance(entry, bool):
            answers.append({"value": float(entry), "tolerance": 0.0, "weight": 100.0})
            continue
        if not isinstance(entry, dict):
            check.fail(
                check.line(item, "answers"), f"{where}each answer must be a number or a mapping"
            )
            continue
        if "min" in entry or "max" in entry:
            low = check.number(entry, "min", where=where)
            high = check.number(entry, "max", where=where)
            answer = {"min": low, "max": high}
        else:
            answer = {
                "value": check.number(entry, "value", where=where),
                "tolerance": check.number(entry, "tolerance", where=where, default=0),
            }
        answer["weight"] = check.number(entry, "weight", where=where, default=100)
        if None in answer.values():
            continue
        feedback = check.texts(entry, "feedback", required=False, where=where)
        if feedback:
            answer["feedback"] = feedback
        answers.append(answer)
    data = {"answers": answers}
    other = check.texts(item, "other_feedback", required=False, where=where)
    if other:
        data["other_feedback"] = other
    return data


def matching_data(pairs: list[tuple[dict, dict]], distractors: list[dict]) -> dict:
    """Items and options from (item, match) text pairs; equal matches share one option."""
    options: list[dict] = []
    by_text: dict[str, str] = {}

    def option_for(texts: dict) -> str:
        key = texts.get("en", "")
        if key not in by_text:
            by_text[key] = f"o{len(options) + 1}"
            options.append({"id": by_text[key], "text": texts})
        return by_text[key]

    items = [
        {"id": f"i{n}", "text": item, "answer": option_for(match)}
        for n, (item, match) in enumerate(pairs, start=1)
    ]
    for texts in distractors:
        option_for(texts)
    return {"items": items, "options": options}


def _matching(check: _Check, item: dict, where: str) -> dict | None:
    raw = item.get("pairs")
    if not isinstance(raw, list) or len(raw) < 2:
        check.fail(check.line(item, "pairs"), f"{where}'pairs' must list at least two pairs")
        return None
    pairs = []
    for entry in raw:
        if not isinstance(entry, dict):
            check.fail(check.line(item, "pairs"), f"{where}each pair needs 'item' and 'match'")
            continue
        pairs.append(
            (check.texts(entry, "item", where=where), check.texts(entry, "match", where=where))
        )
    distractors = []
    for entry in item.get("distractors") or []:
        holder = {"text": entry, "__line__": check.line(item, "distractors")}
        distractors.append(check.texts(holder, "text", where=where))
    return matching_data(pairs, distractors)


_DATA_PARSERS = {
    "single_choice": lambda c, i, w: _choices(c, i, w, multiple=False),
    "multiple_choice": lambda c, i, w: _choices(c, i, w, multiple=True),
    "true_false": _true_false,
    "short_answer": _short_answer,
    "numerical": _numerical,
    "matching": _matching,
}


def load_banks(root: Path, course_slugs: set[str] | None = None) -> list[BankSpec]:
    """Parse curriculum/<course>/questions/*.yml; raise CurriculumError listing every problem."""
    specs, problems = [], []
    if not root.is_dir():
        return []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        questions = folder / "questions"
        if not questions.is_dir():
            continue
        files = sorted(questions.glob("*.yml")) + sorted(questions.glob("*.yaml"))
        if files and course_slugs is not None and folder.name not in course_slugs:
            problems.append(
                CurriculumProblem(
                    str(files[0].relative_to(root)), 1, f"no course '{folder.name}' to attach it to"
                )
            )
            continue
        for path in files:
            spec, found = parse_bank(path, folder.name, root)
            problems += found
            if spec:
                specs.append(spec)
    if problems:
        raise CurriculumError(problems)
    return specs


def apply_drafts(bank: QuestionBank, drafts: list[QuestionDraft], *, retire_missing: bool) -> dict:
    """Upsert the bank's questions by key; flushes. Returns counts of what changed."""
    existing = {q.key: q for q in bank.questions}
    counts = {"added": 0, "updated": 0, "retired": 0}
    now = utcnow()
    # A file sync follows the file's order; an import appends new questions after the others.
    last = max((q.position for q in bank.questions), default=0)
    for index, draft in enumerate(drafts, start=1):
        question = existing.pop(draft.key, None)
        if question is None:
            question = Question(bank=bank, key=draft.key)
            db.session.add(question)
            counts["added"] += 1
            if not retire_missing:
                last += 1
                question.position = last
        elif _changed(question, draft) or not question.active:
            counts["updated"] += 1
        if retire_missing:
            question.position = index
        question.qtype, question.competence, question.level = (
            draft.qtype,
            draft.competence,
            draft.level,
        )
        question.points, question.title, question.category = (
            draft.points,
            draft.title,
            draft.category,
        )
        question.text_format = draft.text_format
        for suffix in ("en", "sq", "sr"):
            setattr(question, f"text_{suffix}", draft.texts.get(suffix))
            setattr(question, f"feedback_{suffix}", draft.feedback.get(suffix))
        question.data = draft.data
        question.active = True
        question.updated_at = now
    if retire_missing:
        for question in existing.values():
            if question.active:
                question.active = False
                counts["retired"] += 1
    bank.updated_at = now
    db.session.flush()
    return counts


def _changed(question: Question, draft: QuestionDraft) -> bool:
    return (
        question.qtype,
        question.competence,
        question.level,
        question.texts,
        question.data,
        question.feedbacks,
        question.points,
    ) != (
        draft.qtype,
        draft.competence,
        draft.level,
        draft.texts,
        draft.data,
        draft.feedback,
        draft.points,
    )


def sync_banks(specs: list[BankSpec]) -> list[str]:
    """Upsert curriculum banks (after the courses are synced); flushes, the caller commits."""
    lines = []
    courses = {c.slug: c for c in db.session.scalars(sa.select(Course))}
    for spec in specs:
        course = courses.get(spec.course_slug)
        if course is None:
            raise CurriculumError(
                [CurriculumProblem(spec.path, 1, f"no course '{spec.course_slug}' in the database")]
            )
        bank = db.session.scalar(
            sa.select(QuestionBank).where(
                QuestionBank.course_id == course.id, QuestionBank.slug == spec.slug
            )
        )
        if bank is not None and bank.source != BankSource.CURRICULUM:
            raise CurriculumError(
                [
                    CurriculumProblem(
                        spec.path, 1, f"bank '{spec.slug}' was imported from GIFT; rename the file"
                    )
                ]
            )
        if bank is not None and bank.content_hash == spec.digest:
            continue
        if bank is None:
            bank = QuestionBank(course=course, slug=spec.slug, source=BankSource.CURRICULUM)
            db.session.add(bank)
        bank.title_en = spec.titles["en"]
        bank.title_sq, bank.title_sr = spec.titles.get("sq"), spec.titles.get("sr")
        bank.content_hash = spec.digest
        counts = apply_drafts(bank, spec.questions, retire_missing=True)
        lines.append(
            f"questions {spec.course_slug}/{spec.slug}: {counts['added']} added, "
            f"{counts['updated']} updated, {counts['retired']} retired"
        )
    db.session.flush()
    return lines
