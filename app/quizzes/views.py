"""Plain view models for quiz templates, so templates hold no rules and run no queries."""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from markupsafe import Markup

from app.courses.digcomp import competence_label
from app.markdown import render_markdown

from . import charts, queries, services
from .grading import item_statistics
from .models import Attempt, Question, Quiz


def question_html(question: Question, lang: str) -> Markup:
    text = question.text(lang)
    if question.text_format == "markdown":
        return render_markdown(text)
    return Markup('<p class="plain-text">{}</p>').format(text)


@dataclass
class SlotView:
    position: int
    name: str
    template: str
    html: Markup
    points: float
    view: dict
    answered: bool
    review: dict = field(default_factory=dict)
    score: float | None = None
    feedback: str = ""


def attempt_slots(attempt: Attempt, lang: str) -> list[SlotView]:
    """What the learner's page shows: texts and positions only (types.QuestionType.view)."""
    return [
        SlotView(
            position=slot.position,
            name=services.slot_name(slot),
            template=slot.question.kind.template,
            html=question_html(slot.question, lang),
            points=slot.points,
            view=slot.question.kind.view(
                slot.question.data, slot.layout or {}, lang, slot.response
            ),
            answered=slot.response is not None,
        )
        for slot in attempt.slots
    ]


def remaining_seconds(attempt: Attempt, now: datetime) -> int | None:
    if attempt.deadline is None:
        return None
    return max(0, int((attempt.deadline - now).total_seconds()))


def clock(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def review_slots(attempt: Attempt, lang: str, reveal: bool) -> list[SlotView]:
    views = []
    for slot in attempt.slots:
        kind = slot.question.kind
        views.append(
            SlotView(
                position=slot.position,
                name=services.slot_name(slot),
                template=kind.template,
                html=question_html(slot.question, lang),
                points=slot.points,
                view={},
                answered=slot.response is not None,
                review=kind.review(
                    slot.question.data, slot.layout or {}, lang, slot.response, reveal
                ),
                score=slot.score,
                feedback=slot.question.general_feedback(lang) if reveal else "",
            )
        )
    return views


# --- grading overview --------------------------------------------------------------------------


@dataclass
class QuestionStat:
    question_id: int
    label: str
    competence: str
    qtype: str
    count: int
    difficulty: float | None
    share_correct: float | None
    discrimination: float | None
    upper_lower: float | None
    flag: str  # why a trainer should look at it, or ""


def _short(text: str, length: int = 90) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"[#*_`>]", "", text)).strip()
    return text if len(text) <= length else text[: length - 1] + "…"


def question_stats(quiz: Quiz, lang: str) -> tuple[list[QuestionStat], list]:
    """Per question: facility, share right and discrimination over graded attempts."""
    rows = queries.slot_scores(quiz.id)
    stats = item_statistics((r.attempt_id, r.question_id, r.score, r.points) for r in rows)
    questions = queries.questions_by_id(stats)
    result = []
    for question_id, stat in stats.items():
        question = questions[question_id]
        flag = ""
        if stat.discrimination is not None and stat.discrimination < 0.1:
            flag = _("Weak or negative discrimination: check the wording and the key.")
        elif stat.difficulty is not None and stat.difficulty > 0.95:
            flag = _("Almost everyone gets this right.")
        elif stat.difficulty is not None and stat.difficulty < 0.2:
            flag = _("Very few get this right.")
        result.append(
            QuestionStat(
                question_id=question_id,
                label=_short(question.title or question.text(lang)),
                competence=question.competence,
                qtype=str(question.kind.label),
                count=stat.count,
                difficulty=stat.difficulty,
                share_correct=stat.share_correct,
                discrimination=stat.discrimination,
                upper_lower=stat.upper_lower,
                flag=flag,
            )
        )
    result.sort(key=lambda s: (s.competence, s.label))
    return result, rows


def results_table(quiz: Quiz, lang: str) -> tuple[list[str], list[list]]:
    """Attempts with their per-question scores, for XLSX and CSV: three queries."""
    attempts = queries.quiz_attempts(quiz.id)
    rows = queries.slot_scores(quiz.id)
    questions = queries.questions_by_id(r.question_id for r in rows)
    ordered = sorted(questions.values(), key=lambda q: (q.competence, q.position, q.id))
    scores = {(r.attempt_id, r.question_id): r.score for r in rows}
    headers = [
        _("Last name"),
        _("First name"),
        _("E-mail"),
        _("Attempt"),
        _("State"),
        _("Started"),
        _("Finished"),
        _("Score"),
        _("Maximum"),
        _("Percent"),
        _("Passed"),
    ] + [f"{q.competence} {q.title or _short(q.text(lang), 40)}" for q in ordered]
    table = []
    for attempt in attempts:
        table.append(
            [
                attempt.person.last_name,
                attempt.person.first_name,
                attempt.person.email or "",
                attempt.number,
                attempt.state_label,
                attempt.started_at,
                attempt.finished_at,
                attempt.score,
                attempt.max_score,
                attempt.percent,
                "" if attempt.passed is None else (_("yes") if attempt.passed else _("no")),
            ]
            + [scores.get((attempt.id, q.id)) for q in ordered]
        )
    return headers, table


def _safe(value):
    # Spreadsheet programs run cells that start with = + - @ as formulas.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(headers: list[str], rows: list[list]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows ë ç č ć š ž đ."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_safe(h) for h in headers])
    for row in rows:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(title: str, headers: list[str], rows: list[list]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = re.sub(r"[\[\]\*\?/\\:]", " ", title)[:31] or "Results"
    sheet.append([_safe(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_safe(v) for v in row])
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download_name(quiz: Quiz, extension: str) -> str:
    base = re.sub(r"[^A-Za-z0-9]+", "-", f"{quiz.run.course.code}-{quiz.title}").strip("-")
    return f"{base or 'quiz'}-results.{extension}"


# --- knowledge gain -----------------------------------------------------------------------------


@dataclass
class CompetenceRow:
    code: str
    label: str
    before: float | None
    after: float | None
    before_n: int
    after_n: int


@dataclass
class QuestionRow:
    label: str
    competence: str
    before: float | None
    after: float | None


def gain_page(run_id: int, lang: str) -> dict:
    """Everything the pre/post page shows: five queries whatever the class size."""
    learners = queries.learner_gains(run_id)
    summary = queries.knowledge_gain([run_id])
    by_question, by_competence = queries.share_correct([run_id])
    questions = queries.questions_by_id(by_question)
    competences = [
        CompetenceRow(
            code=code,
            label=competence_label(code),
            before=item.before,
            after=item.after,
            before_n=item.before_total,
            after_n=item.after_total,
        )
        for code, item in by_competence.items()
    ]
    question_rows = sorted(
        (
            QuestionRow(
                label=_short(questions[qid].title or questions[qid].text(lang)),
                competence=questions[qid].competence,
                before=item.before,
                after=item.after,
            )
            for qid, item in by_question.items()
        ),
        key=lambda r: (r.competence, r.label),
    )
    series = [_("Pre-test"), _("Post-test")]
    competence_chart = charts.grouped_bars(
        _("Share of answers fully right, per competence"),
        [(_short(row.label, 34), [row.before, row.after]) for row in competences],
        series,
    )
    learner_chart = charts.grouped_bars(
        _("Score per learner"),
        [
            (_short(row.name, 34), [row.pre, row.post])
            for row in learners
            if row.pre is not None or row.post is not None
        ],
        series,
    )
    return {
        "learners": learners,
        "summary": summary,
        "competences": competences,
        "questions": question_rows,
        "competence_chart": competence_chart if competences else None,
        "learner_chart": learner_chart if learner_chart.rows else None,
    }


# --- the learner's list of quizzes --------------------------------------------------------------


@dataclass
class LearnerQuizRow:
    quiz: Quiz
    status: str  # "upcoming", "open" or "closed"
    attempts: int
    attempts_left: int | None  # None: unlimited
    open_attempt_id: int | None
    last_attempt_id: int | None
    best: float | None  # only when the quiz shows results
    can_start: bool


def learner_quiz_rows(quizzes: list[Quiz], states: dict, now: datetime) -> list[LearnerQuizRow]:
    rows = []
    for quiz in quizzes:
        state = states.get(quiz.id) or queries.MyQuizState()
        status = (
            "upcoming" if now < quiz.opens_at else ("closed" if quiz.is_closed(now) else "open")
        )
        left = None if quiz.max_attempts is None else max(0, quiz.max_attempts - state.attempts)
        rows.append(
            LearnerQuizRow(
                quiz=quiz,
                status=status,
                attempts=state.attempts,
                attempts_left=left,
                open_attempt_id=state.open_attempt_id,
                last_attempt_id=state.last_attempt_id,
                best=state.best_percent if services.results_visible(quiz, now) else None,
                can_start=status == "open" and state.open_attempt_id is None and left != 0,
            )
        )
    return rows


@dataclass
class Progress:
    pre: float | None
    post: float | None
    gain: float | None
    reached: bool | None
    pass_mark: float | None


def my_progress(run_id: int, person_id: int, now: datetime) -> Progress | None:
    """The learner's own pre/post scores, as far as each test shows results."""
    pre_quiz, post_quiz = queries.pre_post_quizzes(run_id)
    if pre_quiz is None and post_quiz is None:
        return None
    rows = queries.learner_gains(run_id, person_id)
    row = rows[0] if rows else None
    pre = row.pre if row and pre_quiz and services.results_visible(pre_quiz, now) else None
    post = row.post if row and post_quiz and services.results_visible(post_quiz, now) else None
    return Progress(
        pre=pre,
        post=post,
        gain=round(post - pre, 2) if pre is not None and post is not None else None,
        reached=row.reached if post is not None else None,
        pass_mark=post_quiz.pass_mark if post_quiz else None,
    )


@dataclass
class BankQuestion:
    key: str
    title: str
    html: Markup
    type_label: str
    competence: str
    level: int
    points: float
    answers: list[str]
    active: bool
    languages: list[str]


def bank_questions(bank, lang: str) -> list[BankQuestion]:
    """The bank for staff, right answers included (learners never see this page)."""
    return [
        BankQuestion(
            key=q.key,
            title=q.title or "",
            html=question_html(q, lang),
            type_label=str(q.kind.label),
            competence=competence_label(q.competence),
            level=q.level,
            points=q.points,
            answers=q.kind.answer_key(q.data, lang),
            active=q.active,
            languages=[{"en": "EN", "sq": "SQ", "sr": "SR"}[k] for k in q.texts],
        )
        for q in bank.questions
    ]
