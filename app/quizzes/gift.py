"""Moodle's GIFT format: parse a file into questions, and write questions back.

Supported as Moodle documents it: questions separated by blank lines; `//` comment lines
(with Moodle's `[id:…]` and `[tag:…]` markers in them); `$CATEGORY:` lines; `::title::`;
`[html]`, `[moodle]`, `[plain]`, `[markdown]` format markers; multi-line questions and
answers; the escapes \\~ \\= \\# \\{ \\} \\: \\\\ and \\n; single choice (`=` right, `~` wrong,
`~%50%` partial credit), multiple answers (`~%n%` weights, no `=`); true/false (`{T}`,
`{TRUE}`, `{F}`, `{FALSE}` with `#wrong#right` feedback); short answer with weights;
numerical (`{#3.14:0.01}`, ranges `{#1..5}`, several answers with weights, `~#other`
feedback); matching (`=item -> match`, and `= -> distractor`); per-answer `#feedback`;
general feedback `####`; the missing-word form (answers in the middle of the sentence).

Refused, with the reason: essay (`{}`) and description (no braces) items, because Akademia
only holds questions it can grade; Cloze (several answer blocks in one question); a `*`
numerical answer worth marks. HTML is reduced to text, because Akademia never renders
imported HTML. DigComp tags travel in Moodle's tag comments: `// [tag:digcomp-4.2] [tag:level-3]`.

A malformed question is reported with its line and the reason, and nothing is imported.
"""

import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from flask_babel import gettext as _

from .banks import QuestionDraft, matching_data
from .types import get_type, pick

# Escaped characters become private-use placeholders while the structure is parsed.
_ESCAPES = {"\\\\": "\ue000", "\\~": "\ue001", "\\=": "\ue002", "\\#": "\ue003", "\\{": "\ue004",
            "\\}": "\ue005", "\\:": "\ue006", "\\n": "\ue007"}  # fmt: skip
_RESTORE = {"\ue000": "\\", "\ue001": "~", "\ue002": "=", "\ue003": "#", "\ue004": "{",
            "\ue005": "}", "\ue006": ":", "\ue007": "\n"}  # fmt: skip
_ESCAPE_RE = re.compile(r"\\[\\~=#{}:n]")
_WEIGHT = re.compile(r"^%\s*(-?\d+(?:\.\d+)?)\s*%")
_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_ID = re.compile(r"\[id:((?:\\\]|[^\]\x00-\x1f])+)\]")
_TAG = re.compile(r"\[tag:((?:\\\]|[^\]\x00-\x1f])+)\]")
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
TRUE_WORDS, FALSE_WORDS = {"T", "TRUE"}, {"F", "FALSE"}
BLANK = "_____"


@dataclass
class GiftProblem:
    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


class GiftError(Exception):
    def __init__(self, problems: list[GiftProblem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class GiftQuestion:
    line: int
    qtype: str
    text: str
    text_format: str  # "markdown" or "plain"
    data: dict
    title: str | None = None
    category: str | None = None
    idnumber: str | None = None
    tags: list[str] = field(default_factory=list)
    general_feedback: str = ""


class _Fail(Exception):
    def __init__(self, offset: int, message: str):
        super().__init__(message)
        self.offset, self.message = offset, message


def _protect(text: str) -> str:
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], text)


def _restore(text: str) -> str:
    for placeholder, char in _RESTORE.items():
        text = text.replace(placeholder, char)
    return text


class _TextOnly(HTMLParser):
    BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def _formatted(raw: str, default: str) -> tuple[str, str]:
    """A text part with its optional [format] marker: (text, "plain" | "markdown" | "html")."""
    match = _FORMAT.match(raw)
    fmt = match.group(1).lower() if match else default
    if match:
        raw = raw[match.end() :]
    text = _restore(raw).strip()
    if fmt == "html":
        return html_to_text(text), "html"
    return text, fmt


def _part(raw: str, default: str) -> str:
    text, _fmt = _formatted(raw, default)
    return text


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Split into questions at blank lines, except inside an answer block {…}."""
    blocks, current, start, depth = [], [], 0, 0
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped and depth == 0:
            if current:
                blocks.append((start, current))
            current = []
            continue
        if not current:
            start = number
        current.append(line)
        if not stripped.startswith("//"):
            protected = _protect(line)
            depth = max(0, depth + protected.count("{") - protected.count("}"))
    if current:
        blocks.append((start, current))
    return blocks


def parse_gift(text: str, source: str = "GIFT") -> list[GiftQuestion]:
    """Every question in the text; raise GiftError listing every malformed one."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    questions, problems, category = [], [], None
    for start, lines in _blocks(text):
        comments = [line.strip() for line in lines if line.strip().startswith("//")]
        body_lines = ["" if line.strip().startswith("//") else line for line in lines]
        body = "\n".join(body_lines)
        if not body.strip():
            continue
        leading = len(body) - len(body.lstrip())
        first_line = start + body[:leading].count("\n")
        body = _protect(body.strip())
        if body.startswith("$CATEGORY:"):
            head, _sep, rest = body.partition("\n")
            category = _restore(head[len("$CATEGORY:") :]).strip() or None
            if not rest.strip():
                continue
            leading = len(rest) - len(rest.lstrip())
            first_line += 1 + rest[:leading].count("\n")
            body = rest.strip()
        try:
            question = _question(body, first_line, category, " ".join(comments))
        except _Fail as fail:
            problems.append(
                GiftProblem(source, first_line + body[: fail.offset].count("\n"), fail.message)
            )
            continue
        questions.append(question)
    if problems:
        raise GiftError(problems)
    if not questions:
        raise GiftError([GiftProblem(source, 1, _("no questions found"))])
    return questions


def _question(body: str, line: int, category: str | None, comments: str) -> GiftQuestion:
    title = None
    offset = 0
    if body.startswith("::"):
        end = body.find("::", 2)
        if end < 0:
            raise _Fail(0, _("the title starts with '::' but has no closing '::'"))
        title = _restore(body[2:end]).strip() or None
        offset = end + 2
    rest = body[offset:]
    opening = rest.find("{")
    closing = rest.find("}")
    if opening < 0 and closing < 0:
        raise _Fail(
            offset,
            _(
                "no answers in braces: descriptions are not imported "
                "(Akademia only holds questions it can grade)"
            ),
        )
    if opening < 0 or 0 <= closing < opening:
        raise _Fail(
            offset + max(closing, 0),
            _("a '}' comes before any '{' (escape it as \\} if it is text)"),
        )
    closing = rest.find("}", opening)
    if closing < 0:
        raise _Fail(offset + opening, _("the answers opened with '{' are never closed with '}'"))
    if "{" in rest[opening + 1 : closing]:
        raise _Fail(
            offset + opening, _("a '{' inside the answers (escape it as \\{ if it is text)")
        )
    after = rest[closing + 1 :]
    if "{" in after or "}" in after:
        raise _Fail(
            offset + closing + 1,
            _(
                "a second answer block: leave a blank line between questions "
                "(embedded answers, Cloze, are not supported)"
            ),
        )
    before = rest[:opening]
    answers_offset = offset + opening + 1
    answer_text = rest[opening + 1 : closing]
    stem = before + (BLANK + after if after.strip() else "")
    stem_text, stem_format = _formatted(stem, "moodle")
    if stem_format == "moodle":
        stem_format = "plain"
    if not stem_text.strip(BLANK + " \n"):
        raise _Fail(offset, _("the question has no text"))
    part_default = {"markdown": "markdown", "html": "html"}.get(stem_format, "moodle")
    general = ""
    split = answer_text.rfind("####")
    if split >= 0:
        general = _part(answer_text[split + 4 :], part_default)
        answer_text = answer_text[:split]
    qtype, data = _answers(answer_text, answers_offset, part_default)
    problems = get_type(qtype).check(data)
    if problems:
        raise _Fail(answers_offset, "; ".join(problems))
    idnumber = _ID.search(comments)
    return GiftQuestion(
        line=line,
        qtype=qtype,
        text=stem_text,
        text_format="markdown" if stem_format == "markdown" else "plain",
        data=data,
        title=title,
        category=category,
        idnumber=idnumber.group(1).replace("\\]", "]").strip() if idnumber else None,
        tags=[t.replace("\\]", "]").strip() for t in _TAG.findall(comments)],
        general_feedback=general,
    )


def _answers(text: str, offset: int, fmt: str) -> tuple[str, dict]:
    stripped = text.strip()
    lead = offset + len(text) - len(text.lstrip())
    if not stripped:
        raise _Fail(
            offset, _("essay questions ({}) need a person to grade them and are not imported")
        )
    if stripped.startswith("#"):
        return "numerical", _numerical(stripped[1:], lead + 1, fmt)
    if "~" in stripped:
        return _choices(stripped, lead, fmt)
    if "=" in stripped and "->" in stripped:
        return "matching", _matching(stripped, lead, fmt)
    word = stripped.split("#", 1)[0].strip()
    if word.upper() in TRUE_WORDS | FALSE_WORDS:
        return "true_false", _true_false(stripped, word.upper() in TRUE_WORDS, fmt)
    return "short_answer", _short_answer(stripped, lead, fmt)


def _pieces(text: str, markers: str, offset: int) -> list[tuple[str, str, int]]:
    """Split at each marker character: [(marker, body, offset of the marker)]."""
    found = [m.start() for m in re.finditer(f"[{re.escape(markers)}]", text)]
    pieces = []
    if not found or text[: found[0]].strip():
        raise _Fail(
            offset, _("each answer must start with %(markers)s", markers=_(" or ").join(markers))
        )
    for index, position in enumerate(found):
        end = found[index + 1] if index + 1 < len(found) else len(text)
        pieces.append((text[position], text[position + 1 : end], offset + position))
    return pieces


def _weight(body: str, at: int) -> tuple[float | None, str]:
    match = _WEIGHT.match(body.lstrip())
    if not match:
        if body.lstrip().startswith("%"):
            raise _Fail(at, _("a weight must look like %50% or %-25%"))
        return None, body
    weight = float(match.group(1))
    if not -100 <= weight <= 100:
        raise _Fail(
            at, _("the weight %(weight)s%% is outside -100%% to 100%%", weight=f"{weight:g}")
        )
    return weight, body.lstrip()[match.end() :]


def _feedback(body: str, fmt: str) -> tuple[str, str]:
    text, _sep, feedback = body.partition("#")
    return text, _part(feedback, fmt)


def _texts(value: str) -> dict:
    return {"en": value} if value else {}


def _choices(text: str, offset: int, fmt: str) -> tuple[str, dict]:
    single = "=" in text
    choices = []
    for number, (marker, body, at) in enumerate(_pieces(text, "~=", offset), start=1):
        weight, body = _weight(body, at)
        if marker == "=":
            weight = 100.0 if weight is None else weight
        choice_text, feedback = _feedback(body, fmt)
        choice_text = _part(choice_text, fmt)
        if not choice_text:
            raise _Fail(at, _("an answer has no text"))
        choice = {"id": f"c{number}", "text": _texts(choice_text), "weight": weight or 0.0}
        if feedback:
            choice["feedback"] = _texts(feedback)
        choices.append(choice)
    if len(choices) < 2:
        raise _Fail(offset, _("a multiple-choice question needs at least two answers"))
    return ("single_choice" if single else "multiple_choice"), {"choices": choices}


def _true_false(text: str, answer: bool, fmt: str) -> dict:
    parts = text.split("#", 2)
    wrong = _part(parts[1], fmt) if len(parts) > 1 else ""
    right = _part(parts[2], fmt) if len(parts) > 2 else ""
    data = {"answer": answer}
    on_true, on_false = (right, wrong) if answer else (wrong, right)
    if on_true:
        data["feedback_true"] = _texts(on_true)
    if on_false:
        data["feedback_false"] = _texts(on_false)
    return data


def _short_answer(text: str, offset: int, fmt: str) -> dict:
    if not text.startswith("="):
        text = "=" + text  # Moodle reads {Paris} as one accepted answer
        offset -= 1
    answers = []
    for _marker, body, at in _pieces(text, "=", offset):
        weight, body = _weight(body, at)
        value, feedback = _feedback(body, fmt)
        value = _restore(value).strip()
        if not value:
            raise _Fail(at, _("an accepted answer is empty"))
        answer = {"text": value, "weight": 100.0 if weight is None else weight}
        if feedback:
            answer["feedback"] = _texts(feedback)
        answers.append(answer)
    return {"answers": answers}


def _numeric_value(value: str, at: int) -> dict:
    value = _restore(value).strip()
    if match := re.fullmatch(rf"({_NUMBER})\s*\.\.\s*({_NUMBER})", value):
        low, high = float(match.group(1)), float(match.group(2))
        if low > high:
            raise _Fail(at, _("the range %(range)s runs backwards (write low..high)", range=value))
        return {"min": low, "max": high}
    if match := re.fullmatch(rf"({_NUMBER})\s*:\s*({_NUMBER})", value):
        tolerance = float(match.group(2))
        if tolerance < 0:
            raise _Fail(at, _("a tolerance cannot be negative"))
        return {"value": float(match.group(1)), "tolerance": tolerance}
    if re.fullmatch(_NUMBER, value):
        return {"value": float(value), "tolerance": 0.0}
    raise _Fail(
        at, _("'%(value)s' is not a number, a number:tolerance or a low..high range", value=value)
    )


def _numerical(text: str, offset: int, fmt: str) -> dict:
    other = ""
    wrong = text.find("~")
    if wrong >= 0:
        other_part = text[wrong + 1 :]
        other = _part(other_part.partition("#")[2] if "#" in other_part else other_part, fmt)
        text = text[:wrong]
    stripped = text.strip()
    lead = offset + len(text) - len(text.lstrip())
    if not stripped:
        raise _Fail(offset, _("a numerical question needs at least one number"))
    if not stripped.startswith("="):
        stripped, lead = "=" + stripped, lead - 1
    answers = []
    for _marker, body, at in _pieces(stripped, "=", lead):
        weight, body = _weight(body, at)
        value, feedback = _feedback(body, fmt)
        if _restore(value).strip() == "*":
            if weight:
                raise _Fail(at, _("'*' (any answer) can only be worth 0%; use ~#feedback instead"))
            other = other or feedback
            continue
        answer = _numeric_value(value, at)
        answer["weight"] = 100.0 if weight is None else weight
        if feedback:
            answer["feedback"] = _texts(feedback)
        answers.append(answer)
    data = {"answers": answers}
    if other:
        data["other_feedback"] = _texts(other)
    return data


def _matching(text: str, offset: int, fmt: str) -> dict:
    pairs, distractors = [], []
    for _marker, body, at in _pieces(text, "=", offset):
        if "->" not in body:
            raise _Fail(at, _("each matching pair needs 'item -> match'"))
        item, _sep, match = body.partition("->")
        item, match = _part(item, fmt), _restore(match).strip()
        if not match:
            raise _Fail(at, _("a matching pair has nothing after '->'"))
        if item:
            pairs.append((_texts(item), _texts(match)))
        else:
            distractors.append(_texts(match))
    if len(pairs) < 2:
        raise _Fail(offset, _("a matching question needs at least two pairs"))
    return matching_data(pairs, distractors)


# --- from GIFT questions to bank drafts ------------------------------------------------------


def _slug(value: str) -> str:
    from app.text import normalize_name

    return re.sub(r"[^a-z0-9]+", "-", normalize_name(value)).strip("-")[:100]


def _relang(value, lang: str):
    """Move English-keyed texts to the language the GIFT file is written in."""
    if isinstance(value, dict):
        if set(value) == {"en"} and isinstance(value["en"], str):
            return {lang: value["en"]}
        return {k: _relang(v, lang) for k, v in value.items()}
    if isinstance(value, list):
        return [_relang(v, lang) for v in value]
    return value


def to_drafts(
    questions: list[GiftQuestion], *, lang: str, competence: str, level: int, source: str = "GIFT"
) -> list[QuestionDraft]:
    """Bank drafts, tagged from `[tag:digcomp-4.2] [tag:level-3]` or the defaults given."""
    from app.courses.digcomp import COMPETENCES

    drafts, keys, problems = [], set(), []
    for question in questions:
        code, lvl = competence, level
        for tag in question.tags:
            lowered = tag.lower()
            if lowered.startswith("digcomp-"):
                code = tag[len("digcomp-") :]
                if code not in COMPETENCES:
                    problems.append(
                        GiftProblem(
                            source, question.line, _("'%(tag)s' is not a DigComp 2.2 code", tag=tag)
                        )
                    )
            elif lowered.startswith("level-"):
                value = tag[len("level-") :]
                if not value.isdigit() or not 1 <= int(value) <= 8:
                    problems.append(
                        GiftProblem(
                            source,
                            question.line,
                            _("'%(tag)s' must be level-1 to level-8", tag=tag),
                        )
                    )
                else:
                    lvl = int(value)
        base = _slug(question.idnumber or question.title or "") or (
            "gift-" + hashlib.sha1(question.text.encode(), usedforsecurity=False).hexdigest()[:10]
        )
        key, n = base, 2
        while key in keys:
            key, n = f"{base}-{n}", n + 1
        keys.add(key)
        drafts.append(
            QuestionDraft(
                key=key,
                qtype=question.qtype,
                competence=code,
                level=lvl,
                texts={lang: question.text},
                data=_relang(question.data, lang),
                feedback={lang: question.general_feedback} if question.general_feedback else {},
                title=question.title,
                category=question.category,
                text_format=question.text_format,
                line=question.line,
            )
        )
    if problems:
        raise GiftError(problems)
    return drafts


# --- writing ---------------------------------------------------------------------------------


def escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for char in "~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\r", "").replace("\n", "\\n")


def _number(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _weight_mark(weight) -> str:
    return f"%{_number(weight)}%"


def _fb(texts, lang) -> str:
    text = pick(texts, lang)
    return "#" + escape(text) if text else ""


def export_question(question, lang: str) -> str:
    """One question (a Question row or anything with the same attributes) as GIFT text."""
    tags = [
        f"[id:{question.key}]",
        f"[tag:digcomp-{question.competence}]",
        f"[tag:level-{question.level}]",
    ]
    out = [f"// {' '.join(tags)}"]
    # Always a title, as Moodle writes it: text that starts with "//", "::" or "$CATEGORY"
    # would otherwise be read back as something else.
    head = f"::{escape(question.title or question.key)}::"
    marker = "[markdown]" if question.text_format == "markdown" else ""
    text = escape(question.text(lang))
    data = question.data
    body = _export_answers(question.qtype, data, lang)
    general = question.general_feedback(lang)
    if general:
        body.append("####" + escape(general))
    if question.qtype == "true_false":
        out.append(f"{head}{marker}{text}{{{''.join(body)}}}")
    else:
        out.append(f"{head}{marker}{text}{{")
        out += ["\t" + line for line in body]
        out.append("}")
    return "\n".join(out)


def _export_answers(qtype: str, data: dict, lang: str) -> list[str]:
    if qtype in ("single_choice", "multiple_choice"):
        lines, used_equals = [], False
        for choice in data["choices"]:
            weight = float(choice.get("weight", 0) or 0)
            if qtype == "single_choice" and weight >= 100 and not used_equals:
                mark, used_equals = "=", True
            elif weight == 0:
                mark = "~"
            else:
                mark = "~" + _weight_mark(weight)
            lines.append(
                mark + escape(pick(choice["text"], lang)) + _fb(choice.get("feedback"), lang)
            )
        return lines
    if qtype == "true_false":
        right = data.get("feedback_true" if data["answer"] else "feedback_false")
        wrong = data.get("feedback_false" if data["answer"] else "feedback_true")
        text = "TRUE" if data["answer"] else "FALSE"
        if pick(wrong, lang) or pick(right, lang):
            text += "#" + escape(pick(wrong, lang))
        if pick(right, lang):
            text += "#" + escape(pick(right, lang))
        return [text]
    if qtype == "short_answer":
        return [
            "="
            + ("" if float(a["weight"]) == 100 else _weight_mark(a["weight"]))
            + escape(a["text"])
            + _fb(a.get("feedback"), lang)
            for a in data["answers"]
        ]
    if qtype == "numerical":
        lines = []
        for answer in data["answers"]:
            if "min" in answer:
                value = f"{_number(answer['min'])}..{_number(answer['max'])}"
            else:
                value = f"{_number(answer['value'])}:{_number(answer.get('tolerance', 0))}"
            weight = "" if float(answer["weight"]) == 100 else _weight_mark(answer["weight"])
            lines.append(f"={weight}{value}{_fb(answer.get('feedback'), lang)}")
        if pick(data.get("other_feedback"), lang):
            lines.append("~" + _fb(data["other_feedback"], lang))
        lines[0] = "#" + lines[0]
        return lines
    if qtype == "matching":
        options = {o["id"]: pick(o["text"], lang) for o in data["options"]}
        lines = [
            f"={escape(pick(i['text'], lang))} -> {escape(options[i['answer']])}"
            for i in data["items"]
        ]
        used = {i["answer"] for i in data["items"]}
        lines += [f"= -> {escape(text)}" for oid, text in options.items() if oid not in used]
        return lines
    raise ValueError(f"GIFT cannot express question type {qtype!r}")


def export_gift(questions, lang: str, heading: str = "") -> str:
    """A whole bank as GIFT, with $CATEGORY lines where the category changes."""
    out = [f"// {heading}"] if heading else []
    category = None
    for question in questions:
        if question.category and question.category != category:
            category = question.category
            out.append(f"$CATEGORY: {category}")
            out.append("")
        out.append(export_question(question, lang))
        out.append("")
    return "\n".join(out).rstrip() + "\n"
