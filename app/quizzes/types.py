"""Question types: one class per type knows its data, its input, its grading and its review.

Adding a type is local: write a subclass, decorate it with @register, and add its template
(app/templates/quizzes/types/<name>.html with an `input(q)` and a `review(q)` macro). The type
name is stored as text, not as a database enum, so a new type needs no migration.

Data shapes (texts are {"en": ..., "sq": ..., "sr": ...}, English being the fallback):
  single_choice / multiple_choice  {"choices": [{"id", "text", "weight", "feedback"}]}
  true_false                       {"answer": bool, "feedback_true", "feedback_false"}
  short_answer                     {"answers": [{"text", "weight", "feedback"}]}
  numerical                        {"answers": [{"value", "tolerance" | "min", "max", "weight",
                                     "feedback"}], "other_feedback"}
  matching                         {"items": [{"id", "text", "answer"}], "options": [{"id", "text"}]}

What a learner's page receives (`view`) never says which answer is right: choices are sent as
positions in the attempt's stored order, and weights, accepted answers and feedback stay here.
"""

import random
from collections.abc import Mapping
from typing import ClassVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import grading

Texts = Mapping[str, str]
Values = Mapping[str, list[str]]

TEXT_FALLBACK = ("en", "sq", "sr")


def pick(texts: Texts | None, lang: str) -> str:
    """The text in the wanted language, else English, else whatever translation exists."""
    if not texts:
        return ""
    if isinstance(texts, str):
        return texts
    for key in (lang, *TEXT_FALLBACK):
        if texts.get(key):
            return texts[key]
    return ""


def _first(values: Values, name: str) -> str | None:
    items = values.get(name) or []
    return items[0] if items else None


def _index(value: str | None, size: int) -> int | None:
    if value is None or not value.isdigit():
        return None
    number = int(value)
    return number if number < size else None


class QuestionType:
    name: ClassVar[str]
    label: ClassVar[str]
    template: ClassVar[str]
    # Responses typed by the learner (not picked from the question's own texts): they may
    # hold anything, so erasing a person's data blanks them (app/privacy/services.py).
    free_text: ClassVar[bool] = False

    # -- authoring --------------------------------------------------------------------------
    def check(self, data: Mapping) -> list[str]:
        """Problems with a question's data, as sentences; empty when it can be used."""
        return []

    def answer_key(self, data: Mapping, lang: str) -> list[str]:
        """The right answers in words, for staff pages and exports."""
        return []

    # -- taking -----------------------------------------------------------------------------
    def layout(self, data: Mapping, rng: random.Random, shuffle: bool) -> dict:
        """The order this attempt shows things in; stored so a resumed attempt looks the same."""
        return {}

    def parse(self, values: Values, name: str, data: Mapping, layout: Mapping):
        """Turn submitted form values into the stored response (by ids), None when blank."""
        raise NotImplementedError

    def view(self, data: Mapping, layout: Mapping, lang: str, response) -> dict:
        """What the input needs: texts and positions, never weights or right answers."""
        return {}

    def grade(self, data: Mapping, response) -> float:
        raise NotImplementedError

    def review(self, data: Mapping, layout: Mapping, lang: str, response, reveal: bool) -> dict:
        """What the learner sees after submitting; right answers and feedback only if reveal."""
        return {}

    def response_text(self, data: Mapping, lang: str, response) -> str:
        """The response in words, for exports."""
        return "" if response is None else str(response)


TYPES: dict[str, QuestionType] = {}


def register(cls: type[QuestionType]) -> type[QuestionType]:
    TYPES[cls.name] = cls()
    return cls


def get_type(name: str) -> QuestionType:
    try:
        return TYPES[name]
    except KeyError:
        raise ValueError(f"unknown question type {name!r}") from None


def _shuffled(ids: list[str], rng: random.Random, shuffle: bool, avoid_identity=False):
    order = list(ids)
    if shuffle and len(order) > 1:
        rng.shuffle(order)
        if avoid_identity and order == ids:
            order = order[1:] + order[:1]
    return order


class _ChoiceType(QuestionType):
    multiple: ClassVar[bool] = False

    def answer_key(self, data, lang):
        out = []
        for choice in data["choices"]:
            weight = grading._weight(choice)
            if weight > 0:
                suffix = "" if weight >= grading.FULL else f" ({weight:g}%)"
                out.append(pick(choice["text"], lang) + suffix)
        return out

    def layout(self, data, rng, shuffle):
        return {"choices": _shuffled([c["id"] for c in data["choices"]], rng, shuffle)}

    def _ordered(self, data, layout):
        by_id = {c["id"]: c for c in data["choices"]}
        order = [i for i in layout.get("choices", []) if i in by_id]
        order += [c["id"] for c in data["choices"] if c["id"] not in order]
        return [by_id[i] for i in order]

    def parse(self, values, name, data, layout):
        ordered = self._ordered(data, layout)
        picked = [_index(v, len(ordered)) for v in values.get(name) or []]
        ids = [ordered[i]["id"] for i in picked if i is not None]
        if self.multiple:
            return sorted(set(ids)) or None
        return ids[0] if ids else None

    def _chosen(self, response) -> set[str]:
        if response is None:
            return set()
        return set(response) if isinstance(response, list) else {response}

    def view(self, data, layout, lang, response):
        chosen = self._chosen(response)
        return {
            "choices": [
                {"value": str(pos), "text": pick(c["text"], lang), "checked": c["id"] in chosen}
                for pos, c in enumerate(self._ordered(data, layout))
            ]
        }

    def review(self, data, layout, lang, response, reveal):
        chosen = self._chosen(response)
        rows = []
        for choice in self._ordered(data, layout):
            picked = choice["id"] in chosen
            weight = grading._weight(choice)
            rows.append(
                {
                    "text": pick(choice["text"], lang),
                    "chosen": picked,
                    "correct": reveal and weight > 0,
                    "weight": weight if reveal else None,
                    "feedback": pick(choice.get("feedback"), lang) if reveal and picked else "",
                }
            )
        return {"choices": rows}

    def response_text(self, data, lang, response):
        chosen = self._chosen(response)
        return "; ".join(pick(c["text"], lang) for c in data["choices"] if c["id"] in chosen)

    def _check_choices(self, data) -> list[str]:
        problems = []
        choices = data.get("choices") or []
        if len(choices) < 2:
            problems.append(_("needs at least two choices"))
        ids = [c.get("id") for c in choices]
        if len(set(ids)) != len(ids):
            problems.append(_("choice ids must be unique"))
        for choice in choices:
            if not pick(choice.get("text"), "en").strip():
                problems.append(_("every choice needs a text"))
            weight = grading._weight(choice)
            if not -100 <= weight <= 100:
                problems.append(_("weight %(weight)s%% is outside -100..100", weight=f"{weight:g}"))
        return problems


@register
class SingleChoice(_ChoiceType):
    name = "single_choice"
    label = _l("Single choice")
    template = "quizzes/types/single_choice.html"

    def check(self, data):
        problems = self._check_choices(data)
        if not any(grading._weight(c) >= grading.FULL for c in data.get("choices") or []):
            problems.append(_("needs one fully correct choice"))
        return problems

    def grade(self, data, response):
        return grading.grade_single_choice(data["choices"], response)


@register
class MultipleChoice(_ChoiceType):
    name = "multiple_choice"
    label = _l("Multiple choice")
    template = "quizzes/types/multiple_choice.html"
    multiple = True

    def check(self, data):
        problems = self._check_choices(data)
        positive = sum(max(grading._weight(c), 0) for c in data.get("choices") or [])
        if abs(positive - grading.FULL) > 0.5:
            problems.append(
                _(
                    "the positive weights must add up to 100%% (they add up to %(total)s%%)",
                    total=f"{positive:g}",
                )
            )
        return problems

    def grade(self, data, response):
        return grading.grade_multiple_choice(data["choices"], response)


@register
class TrueFalse(QuestionType):
    name = "true_false"
    label = _l("True or false")
    template = "quizzes/types/true_false.html"

    def check(self, data):
        return (
            [] if isinstance(data.get("answer"), bool) else [_("the answer must be true or false")]
        )

    def answer_key(self, data, lang):
        return [str(_l("True")) if data["answer"] else str(_l("False"))]

    def parse(self, values, name, data, layout):
        value = _first(values, name)
        return {"true": True, "false": False}.get(value or "")

    def view(self, data, layout, lang, response):
        return {"value": response}

    def grade(self, data, response):
        return grading.grade_true_false(data["answer"], response)

    def review(self, data, layout, lang, response, reveal):
        feedback = ""
        if reveal and response is not None:
            feedback = pick(data.get("feedback_true" if response else "feedback_false"), lang)
        return {
            "value": response,
            "answer": data["answer"] if reveal else None,
            "feedback": feedback,
        }

    def response_text(self, data, lang, response):
        if response is None:
            return ""
        return str(_l("True")) if response else str(_l("False"))


class _TextType(QuestionType):
    free_text = True

    def parse(self, values, name, data, layout):
        value = (_first(values, name) or "").strip()
        return value[:500] or None

    def view(self, data, layout, lang, response):
        return {"value": response or ""}


@register
class ShortAnswer(_TextType):
    name = "short_answer"
    label = _l("Short answer")
    template = "quizzes/types/short_answer.html"

    def check(self, data):
        answers = data.get("answers") or []
        problems = [] if answers else [_("needs at least one accepted answer")]
        if answers and not any(grading._weight(a) >= grading.FULL for a in answers):
            problems.append(_("needs one accepted answer worth 100%"))
        if any(not str(a.get("text", "")).strip() for a in answers):
            problems.append(_("an accepted answer is empty"))
        return problems

    def answer_key(self, data, lang):
        return [
            a["text"]
            + ("" if grading._weight(a) >= grading.FULL else f" ({grading._weight(a):g}%)")
            for a in data["answers"]
            if grading._weight(a) > 0
        ]

    def grade(self, data, response):
        return grading.grade_short_answer(data["answers"], response)

    def review(self, data, layout, lang, response, reveal):
        index = grading.short_answer_match(data["answers"], response)
        feedback = ""
        if reveal and index is not None:
            feedback = pick(data["answers"][index].get("feedback"), lang)
        return {
            "value": response or "",
            "accepted": self.answer_key(data, lang) if reveal else [],
            "feedback": feedback,
        }


def _format_number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 else repr(value)


@register
class Numerical(_TextType):
    name = "numerical"
    label = _l("Numerical")
    template = "quizzes/types/numerical.html"

    def check(self, data):
        answers = data.get("answers") or []
        problems = [] if answers else [_("needs at least one accepted number")]
        if answers and not any(grading._weight(a) >= grading.FULL for a in answers):
            problems.append(_("needs one accepted number worth 100%"))
        for answer in answers:
            if "min" in answer and float(answer["min"]) > float(answer["max"]):
                problems.append(_("a range's lower end is above its upper end"))
            if float(answer.get("tolerance", 0) or 0) < 0:
                problems.append(_("a tolerance cannot be negative"))
        return problems

    def answer_key(self, data, lang):
        out = []
        for answer in data["answers"]:
            if grading._weight(answer) <= 0:
                continue
            if "min" in answer:
                text = f"{_format_number(answer['min'])}–{_format_number(answer['max'])}"
            elif answer.get("tolerance"):
                text = f"{_format_number(answer['value'])} ± {_format_number(answer['tolerance'])}"
            else:
                text = _format_number(answer["value"])
            weight = grading._weight(answer)
            out.append(text + ("" if weight >= grading.FULL else f" ({weight:g}%)"))
        return out

    def grade(self, data, response):
        return grading.grade_numerical(data["answers"], response)

    def review(self, data, layout, lang, response, reveal):
        index = grading.numerical_match(data["answers"], response)
        feedback = ""
        if reveal and response is not None:
            source = data["answers"][index] if index is not None else None
            feedback = pick(source.get("feedback") if source else data.get("other_feedback"), lang)
        return {
            "value": response or "",
            "accepted": self.answer_key(data, lang) if reveal else [],
            "feedback": feedback,
        }


@register
class Matching(QuestionType):
    name = "matching"
    label = _l("Matching")
    template = "quizzes/types/matching.html"

    def check(self, data):
        items, options = data.get("items") or [], data.get("options") or []
        problems = [] if len(items) >= 2 else [_("needs at least two pairs to match")]
        option_ids = {o.get("id") for o in options}
        if any(item.get("answer") not in option_ids for item in items):
            problems.append(_("every item needs an answer among the options"))
        if len(option_ids) != len(options):
            problems.append(_("option ids must be unique"))
        return problems

    def answer_key(self, data, lang):
        options = {o["id"]: pick(o["text"], lang) for o in data["options"]}
        return [f"{pick(i['text'], lang)} → {options[i['answer']]}" for i in data["items"]]

    def layout(self, data, rng, shuffle):
        # Options are always shuffled (and never left in the items' order), or their order
        # would pair them with the items and give the answer away.
        return {
            "items": _shuffled([i["id"] for i in data["items"]], rng, shuffle),
            "options": _shuffled(
                [o["id"] for o in data["options"]], rng, True, avoid_identity=True
            ),
        }

    def _ordered(self, data, layout, key):
        by_id = {x["id"]: x for x in data[key]}
        order = [i for i in layout.get(key, []) if i in by_id]
        order += [x["id"] for x in data[key] if x["id"] not in order]
        return [by_id[i] for i in order]

    def parse(self, values, name, data, layout):
        items = self._ordered(data, layout, "items")
        options = self._ordered(data, layout, "options")
        response = {}
        for pos, item in enumerate(items):
            index = _index(_first(values, f"{name}-{pos}"), len(options))
            if index is not None:
                response[item["id"]] = options[index]["id"]
        return response or None

    def view(self, data, layout, lang, response):
        response = response or {}
        options = self._ordered(data, layout, "options")
        position = {o["id"]: str(pos) for pos, o in enumerate(options)}
        return {
            "options": [
                {"value": str(p), "text": pick(o["text"], lang)} for p, o in enumerate(options)
            ],
            "items": [
                {
                    "suffix": str(pos),
                    "text": pick(item["text"], lang),
                    "selected": position.get(response.get(item["id"]), ""),
                }
                for pos, item in enumerate(self._ordered(data, layout, "items"))
            ],
        }

    def grade(self, data, response):
        return grading.grade_matching(data["items"], response)

    def review(self, data, layout, lang, response, reveal):
        response = response or {}
        options = {o["id"]: pick(o["text"], lang) for o in data["options"]}
        return {
            "items": [
                {
                    "text": pick(item["text"], lang),
                    "given": options.get(response.get(item["id"]), ""),
                    "answer": options[item["answer"]] if reveal else "",
                    "right": reveal and response.get(item["id"]) == item["answer"],
                }
                for item in self._ordered(data, layout, "items")
            ]
        }

    def response_text(self, data, lang, response):
        response = response or {}
        options = {o["id"]: pick(o["text"], lang) for o in data["options"]}
        return "; ".join(
            f"{pick(i['text'], lang)} → {options.get(response.get(i['id']), '')}"
            for i in data["items"]
            if i["id"] in response
        )
