"""Scoring rules for every question type: pure functions, no Flask, no database.

Weights are percentages, as in Moodle: a choice worth 100 gives full marks, 50 half, a negative
weight takes marks away. Every grade is a fraction clamped to [0, 1]; the caller multiplies by
the question's points. Responses refer to choices by their stable ids, never by the position in
which a learner saw them, so shuffling cannot change a score.
"""

import math
import re
import statistics
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

FULL = 100.0
# Numbers within this relative distance of a bound count as on it (0.1 + 0.2 and 0.3 agree).
_EPSILON = 1e-9


def clamp01(value: float) -> float:
    if value != value:  # NaN
        return 0.0
    return min(1.0, max(0.0, value))


def normalize_text(value: object) -> str:
    """Trim, collapse inner whitespace and fold case, so " Phishing " equals "phishing"."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return re.sub(r"\s+", " ", text).strip().casefold()


def parse_number(value: object) -> float | None:
    """Read a learner's number: "3.5", "3,5", "1 234,5", "1,234.5", "-2e3"; None if not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    text = re.sub(r"[\s\u00a0\u202f']", "", str(value))
    if not text:
        return None
    if "," in text and "." in text:
        # The separator that comes last is the decimal one: "1.234,5" and "1,234.5".
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _weight(item: Mapping) -> float:
    return float(item.get("weight", 0) or 0)


def grade_single_choice(choices: Sequence[Mapping], response: object) -> float:
    """One choice picked: its weight (a partial-credit choice may be worth less than 100)."""
    for choice in choices:
        if choice["id"] == response:
            return clamp01(_weight(choice) / FULL)
    return 0.0


def grade_multiple_choice(choices: Sequence[Mapping], response: object) -> float:
    """Several choices picked: the sum of their weights, so wrong picks can cancel right ones."""
    if not isinstance(response, list | tuple | set | frozenset):
        return 0.0
    picked = {item for item in response if isinstance(item, str)}
    # fsum is exact, so the order of the choices cannot change a score; rounding drops the
    # remainder of weights such as 100/3, so three thirds minus a whole give exactly zero.
    total = math.fsum(_weight(choice) for choice in choices if choice["id"] in picked)
    return clamp01(round(total / FULL, 9))


def grade_true_false(answer: bool, response: object) -> float:
    if not isinstance(response, bool):
        return 0.0
    return 1.0 if response is answer else 0.0


def _wildcard(pattern: str) -> re.Pattern:
    # Moodle's short answers accept "*" as "any characters".
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def short_answer_match(answers: Sequence[Mapping], response: object) -> int | None:
    """Index of the best-weighted accepted answer the response matches, or None."""
    given = normalize_text(response)
    if not given:
        return None
    best, best_weight = None, -math.inf
    for index, answer in enumerate(answers):
        expected = normalize_text(answer["text"])
        matched = (
            _wildcard(expected).fullmatch(given) is not None
            if "*" in expected
            else expected == given
        )
        if matched and _weight(answer) > best_weight:
            best, best_weight = index, _weight(answer)
    return best


def grade_short_answer(answers: Sequence[Mapping], response: object) -> float:
    index = short_answer_match(answers, response)
    return 0.0 if index is None else clamp01(_weight(answers[index]) / FULL)


def numeric_bounds(answer: Mapping) -> tuple[float, float]:
    """An accepted number as a closed interval: value ± tolerance, or min..max."""
    if "min" in answer:
        low, high = float(answer["min"]), float(answer["max"])
    else:
        value, tolerance = float(answer["value"]), abs(float(answer.get("tolerance", 0) or 0))
        low, high = value - tolerance, value + tolerance
    return min(low, high), max(low, high)


def numerical_match(answers: Sequence[Mapping], response: object) -> int | None:
    number = parse_number(response)
    if number is None:
        return None
    best, best_weight = None, -math.inf
    for index, answer in enumerate(answers):
        low, high = numeric_bounds(answer)
        slack = _EPSILON * max(1.0, abs(low), abs(high))
        if low - slack <= number <= high + slack and _weight(answer) > best_weight:
            best, best_weight = index, _weight(answer)
    return best


def grade_numerical(answers: Sequence[Mapping], response: object) -> float:
    index = numerical_match(answers, response)
    return 0.0 if index is None else clamp01(_weight(answers[index]) / FULL)


def grade_matching(pairs: Sequence[Mapping], response: object) -> float:
    """Share of items matched to their answer; each pair is {"id": item, "answer": option id}."""
    if not pairs or not isinstance(response, Mapping):
        return 0.0
    right = sum(1 for pair in pairs if response.get(pair["id"]) == pair["answer"])
    return clamp01(right / len(pairs))


def score(fraction: float, points: float) -> float:
    """Points earned, rounded for storage, and never above the question's points."""
    points = max(points, 0.0)
    return min(round(clamp01(fraction) * points, 6), points)


def percent(earned: float, maximum: float) -> float:
    if maximum <= 0:
        return 0.0
    return round(100.0 * min(max(earned, 0.0), maximum) / maximum, 2)


def passed(percent_value: float, pass_mark: float) -> bool:
    return percent_value + _EPSILON >= pass_mark


# --- item analysis -------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemStatistic:
    """Classical test theory for one question over the attempts that contained it."""

    count: int
    difficulty: float | None  # facility: mean share of the marks (1.0 = everyone right)
    share_correct: float | None  # share of attempts with full marks
    discrimination: float | None  # point-biserial against the rest of the test, -1..1
    upper_lower: float | None  # upper 27% minus lower 27% facility, -1..1


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    if len(xs) < 3:
        return None
    sx, sy = statistics.pstdev(xs), statistics.pstdev(ys)
    if sx == 0 or sy == 0:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / len(xs)
    return max(-1.0, min(1.0, cov / (sx * sy)))


def item_statistics(
    rows: Iterable[tuple[object, object, float, float]],
) -> dict[object, ItemStatistic]:
    """rows: (attempt, question, earned, maximum) for every question of every graded attempt.

    Discrimination correlates the question's score with the attempt's score on the *other*
    questions, so an item does not correlate with itself; the upper–lower index compares the
    top and bottom 27% of attempts ranked by total score.
    """
    by_attempt: dict[object, dict[object, tuple[float, float]]] = {}
    for attempt, question, earned, maximum in rows:
        by_attempt.setdefault(attempt, {})[question] = (float(earned or 0), float(maximum or 0))
    totals = {a: sum(e for e, _m in items.values()) for a, items in by_attempt.items()}
    maxima = {a: sum(m for _e, m in items.values()) for a, items in by_attempt.items()}
    ranked = sorted(by_attempt, key=lambda a: totals[a] / maxima[a] if maxima[a] else 0.0)
    group = max(1, round(len(ranked) * 0.27)) if len(ranked) >= 4 else 0
    lower, upper = set(ranked[:group]), set(ranked[len(ranked) - group :]) if group else set()

    questions: dict[object, list[tuple[object, float, float]]] = {}
    for attempt, items in by_attempt.items():
        for question, (earned, maximum) in items.items():
            questions.setdefault(question, []).append((attempt, earned, maximum))

    result = {}
    for question, entries in questions.items():
        fractions = [e / m if m else 0.0 for _a, e, m in entries]
        rest = []
        for attempt, earned, maximum in entries:
            rest_max = maxima[attempt] - maximum
            rest.append((totals[attempt] - earned) / rest_max if rest_max else 0.0)
        upper_lower = None
        if group:
            up = [f for (a, _e, _m), f in zip(entries, fractions, strict=True) if a in upper]
            low = [f for (a, _e, _m), f in zip(entries, fractions, strict=True) if a in lower]
            if up and low:
                upper_lower = round(statistics.fmean(up) - statistics.fmean(low), 4)
        discrimination = _pearson(fractions, rest)
        result[question] = ItemStatistic(
            count=len(entries),
            difficulty=round(statistics.fmean(fractions), 4) if fractions else None,
            share_correct=(
                round(sum(1 for f in fractions if f >= 1 - _EPSILON) / len(fractions), 4)
                if fractions
                else None
            ),
            discrimination=None if discrimination is None else round(discrimination, 4),
            upper_lower=upper_lower,
        )
    return result
