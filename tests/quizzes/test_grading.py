"""Grading is pure code: many cases, and property tests for the scoring invariants."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.quizzes import grading
from app.quizzes.types import TYPES, get_type


def choices(*weights):
    return [{"id": f"c{i}", "text": {"en": f"C{i}"}, "weight": w} for i, w in enumerate(weights)]


# --- single choice -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "expected"),
    [("c0", 1.0), ("c1", 0.0), ("c2", 0.5), ("c3", 0.0), (None, 0.0), ("nope", 0.0), (["c0"], 0.0)],
)
def test_single_choice_scores_the_picked_weight(response, expected):
    assert grading.grade_single_choice(choices(100, 0, 50, -100), response) == expected


# --- multiple choice ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (["c0", "c1"], 1.0),
        (["c0"], 0.5),
        (["c1", "c0"], 1.0),
        (["c0", "c1", "c2"], 0.5),
        (["c2"], 0.0),  # clamped at zero, never negative
        (["c0", "c2"], 0.0),
        ([], 0.0),
        (None, 0.0),
        ("c0", 0.0),
        (["c0", "c0"], 0.5),  # a choice counts once
        (["c0", "unknown"], 0.5),
    ],
)
def test_multiple_choice_gives_partial_credit(response, expected):
    assert grading.grade_multiple_choice(choices(50, 50, -50), response) == expected


def test_multiple_choice_with_thirds_reaches_full_marks():
    data = choices(100 / 3, 100 / 3, 100 / 3, -100)
    assert grading.grade_multiple_choice(data, ["c0", "c1", "c2"]) == pytest.approx(1.0)
    assert grading.grade_multiple_choice(data, ["c0", "c1", "c2", "c3"]) == 0.0


# --- true/false --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "response", "expected"),
    [(True, True, 1.0), (True, False, 0.0), (False, False, 1.0), (False, True, 0.0)]
    + [(True, "true", 0.0), (True, None, 0.0), (False, 0, 0.0), (True, 1, 0.0)],
)
def test_true_false(answer, response, expected):
    assert grading.grade_true_false(answer, response) == expected


# --- short answer ------------------------------------------------------------------------------

SHORT = [
    {"text": "Information and Privacy Agency", "weight": 100},
    {"text": "AIP", "weight": 100},
    {"text": "privacy*", "weight": 50},
    {"text": "spam", "weight": 0},
]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("Information and Privacy Agency", 1.0),
        ("  information   and privacy AGENCY  ", 1.0),  # trimmed, spaces collapsed, any case
        ("aip", 1.0),
        ("AIP\n", 1.0),
        ("Privacy office", 0.5),  # wildcard with partial credit
        ("privacy", 0.5),
        ("the privacy agency", 0.0),  # wildcard anchors at the start
        ("spam", 0.0),
        ("", 0.0),
        ("   ", 0.0),
        (None, 0.0),
        ("Information and Privacy Agency.", 0.0),
    ],
)
def test_short_answer(response, expected):
    assert grading.grade_short_answer(SHORT, response) == expected


def test_short_answer_folds_unicode_case_and_composition():
    answers = [{"text": "Gjakovë", "weight": 100}, {"text": "ĐAKOVICA", "weight": 100}]
    assert grading.grade_short_answer(answers, "GJAKOVË") == 1.0
    assert grading.grade_short_answer(answers, "Gjakove\u0308") == 1.0  # combining diaeresis
    assert grading.grade_short_answer(answers, "đakovica") == 1.0
    assert grading.grade_short_answer(answers, "gjakove") == 0.0  # diacritics matter


def test_short_answer_escapes_regex_characters():
    answers = [{"text": "a.b (c)", "weight": 100}]
    assert grading.grade_short_answer(answers, "a.b (c)") == 1.0
    assert grading.grade_short_answer(answers, "axb (c)") == 0.0


def test_short_answer_takes_the_best_matching_weight():
    answers = [{"text": "x*", "weight": 50}, {"text": "xyz", "weight": 100}]
    assert grading.grade_short_answer(answers, "xyz") == 1.0
    assert grading.short_answer_match(answers, "xyz") == 1


# --- numerical ---------------------------------------------------------------------------------

NUMERIC = [
    {"value": 72, "tolerance": 0, "weight": 100},
    {"min": 60, "max": 80, "weight": 50},
]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("72", 1.0),
        ("72.0", 1.0),
        (" 72 ", 1.0),
        ("7.2e1", 1.0),
        ("71", 0.5),
        ("60", 0.5),  # range ends are included
        ("80", 0.5),
        ("80.0001", 0.0),
        ("59,9", 0.0),
        ("", 0.0),
        ("seventy-two", 0.0),
        (None, 0.0),
        ("nan", 0.0),
        ("inf", 0.0),
        (72, 1.0),
        (True, 0.0),
    ],
)
def test_numerical(response, expected):
    assert grading.grade_numerical(NUMERIC, response) == expected


def test_numerical_tolerance_is_inclusive_despite_float_error():
    answers = [{"value": 0.3, "tolerance": 0.1, "weight": 100}]
    assert grading.grade_numerical(answers, "0.2") == 1.0
    assert grading.grade_numerical(answers, str(0.1 + 0.3)) == 1.0
    assert grading.grade_numerical(answers, "0.41") == 0.0


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("3,5", 3.5),
        ("1 234,5", 1234.5),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("-2e3", -2000.0),
        ("+.5", 0.5),
        ("7\u00a0319", 7319.0),
        ("1,2,3", None),
        ("12abc", None),
        ("", None),
        ("1e999", None),
    ],
)
def test_parse_number_reads_local_conventions(text, number):
    assert grading.parse_number(text) == number


def test_negative_ranges():
    answers = [{"min": -5, "max": -1, "weight": 100}]
    assert grading.grade_numerical(answers, "-3") == 1.0
    assert grading.grade_numerical(answers, "3") == 0.0


# --- matching ----------------------------------------------------------------------------------

PAIRS = [{"id": "i1", "answer": "o1"}, {"id": "i2", "answer": "o2"}, {"id": "i3", "answer": "o1"}]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ({"i1": "o1", "i2": "o2", "i3": "o1"}, 1.0),
        ({"i1": "o1", "i2": "o1", "i3": "o1"}, 2 / 3),
        ({"i1": "o2"}, 0.0),
        ({}, 0.0),
        (None, 0.0),
        (["o1"], 0.0),
        ({"i1": "o1", "zz": "o1"}, 1 / 3),
    ],
)
def test_matching(response, expected):
    assert grading.grade_matching(PAIRS, response) == pytest.approx(expected)


# --- totals ------------------------------------------------------------------------------------


def test_score_percent_and_pass():
    assert grading.score(0.5, 2) == 1.0
    assert grading.score(1.5, 2) == 2.0
    assert grading.score(-1, 2) == 0.0
    assert grading.percent(2, 3) == 66.67
    assert grading.percent(0, 0) == 0.0
    assert grading.passed(70.0, 70)
    assert grading.passed(69.999999999999, 70)
    assert not grading.passed(69.9, 70)


# --- property tests ----------------------------------------------------------------------------

weights = st.floats(min_value=-100, max_value=100, allow_nan=False)
texts = st.text(max_size=30)
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    texts,
    st.lists(texts, max_size=5),
    st.dictionaries(texts, texts, max_size=4),
)


@st.composite
def questions(draw):
    """A (type, data) pair of any registered type, with arbitrary weights."""
    kind = draw(st.sampled_from(sorted(TYPES)))
    n = draw(st.integers(min_value=2, max_value=6))
    if kind in ("single_choice", "multiple_choice"):
        data = {
            "choices": [
                {"id": f"c{i}", "text": {"en": str(i)}, "weight": draw(weights)} for i in range(n)
            ]
        }
    elif kind == "true_false":
        data = {"answer": draw(st.booleans())}
    elif kind == "short_answer":
        data = {"answers": [{"text": draw(texts), "weight": draw(weights)} for _ in range(n)]}
    elif kind == "numerical":
        data = {
            "answers": [
                {
                    "value": draw(st.floats(-1e6, 1e6)),
                    "tolerance": draw(st.floats(0, 100)),
                    "weight": draw(weights),
                }
                for _ in range(n)
            ]
        }
    else:
        options = [{"id": f"o{i}", "text": {"en": str(i)}} for i in range(n)]
        data = {
            "items": [
                {
                    "id": f"i{i}",
                    "text": {"en": str(i)},
                    "answer": draw(st.sampled_from(options))["id"],
                }
                for i in range(n)
            ],
            "options": options,
        }
    return kind, data


def _responses(kind, data):
    """Strategies for plausible responses (ids of this question) and garbage."""
    if kind == "single_choice":
        return st.one_of(st.sampled_from([c["id"] for c in data["choices"]]), anything)
    if kind == "multiple_choice":
        return st.one_of(st.lists(st.sampled_from([c["id"] for c in data["choices"]])), anything)
    if kind == "true_false":
        return anything
    if kind in ("short_answer", "numerical"):
        return st.one_of(texts, st.floats().map(str), anything)
    return st.one_of(
        st.dictionaries(
            st.sampled_from([i["id"] for i in data["items"]]),
            st.sampled_from([o["id"] for o in data["options"]]),
        ),
        anything,
    )


@settings(max_examples=300, deadline=None)
@given(question=questions(), data=st.data(), points=st.floats(min_value=0.25, max_value=10))
def test_score_is_always_between_zero_and_the_maximum(question, data, points):
    kind, qdata = question
    response = data.draw(_responses(kind, qdata))
    fraction = get_type(kind).grade(qdata, response)
    assert 0.0 <= fraction <= 1.0
    assert 0.0 <= grading.score(fraction, points) <= points


@settings(max_examples=200, deadline=None)
@given(question=questions(), data=st.data(), seed=st.integers())
def test_shuffling_does_not_change_a_score(question, data, seed):
    """Responses made through a shuffled layout grade the same as through the authored one."""
    kind, qdata = question
    qtype = get_type(kind)
    plain = qtype.layout(qdata, random.Random(seed), False)
    shuffled = qtype.layout(qdata, random.Random(seed), True)
    # The learner makes the same choices (by meaning) in both layouts.
    if kind in ("single_choice", "multiple_choice"):
        picked = data.draw(
            st.lists(st.sampled_from([c["id"] for c in qdata["choices"]]), max_size=4)
        )
        values = [
            {"q1": [str(layout["choices"].index(cid)) for cid in picked]}
            for layout in (plain, shuffled)
        ]
    elif kind == "matching":
        mapping = data.draw(
            st.dictionaries(
                st.sampled_from([i["id"] for i in qdata["items"]]),
                st.sampled_from([o["id"] for o in qdata["options"]]),
            )
        )
        values = [
            {
                f"q1-{layout['items'].index(item)}": [str(layout["options"].index(option))]
                for item, option in mapping.items()
            }
            for layout in (plain, shuffled)
        ]
    else:
        raw = data.draw(texts)
        values = [{"q1": [raw]}, {"q1": [raw]}]
    responses = [
        qtype.parse(v, "q1", qdata, layout)
        for v, layout in zip(values, (plain, shuffled), strict=True)
    ]
    assert responses[0] == responses[1]
    assert qtype.grade(qdata, responses[0]) == qtype.grade(qdata, responses[1])
    # Reordering the authored choices or the selection list changes nothing either.
    if kind == "multiple_choice" and responses[0]:
        reordered = {"choices": list(reversed(qdata["choices"]))}
        assert qtype.grade(reordered, list(reversed(responses[0]))) == qtype.grade(
            qdata, responses[0]
        )


# --- item analysis -----------------------------------------------------------------------------


def test_item_statistics_difficulty_and_discrimination():
    rows = []
    # Ten attempts: q1 is answered right by the five strongest, q2 by everyone, q3 by the weakest.
    for attempt in range(10):
        strong = attempt >= 5
        rows.append((attempt, "q1", 1.0 if strong else 0.0, 1.0))
        rows.append((attempt, "q2", 1.0, 1.0))
        rows.append((attempt, "q3", 0.0 if strong else 1.0, 1.0))
        for extra in range(4):
            rows.append((attempt, f"x{extra}", 1.0 if attempt > extra * 2 else 0.0, 1.0))
    stats = grading.item_statistics(rows)
    assert stats["q1"].difficulty == 0.5
    assert stats["q1"].share_correct == 0.5
    assert stats["q2"].difficulty == 1.0
    assert stats["q2"].discrimination is None  # no variance: undefined
    assert stats["q1"].discrimination > 0.5
    assert stats["q3"].discrimination < 0
    assert stats["q1"].upper_lower == 1.0
    assert stats["q3"].upper_lower == -1.0


def test_item_statistics_small_samples_leave_indices_empty():
    stats = grading.item_statistics([(1, "q", 1.0, 1.0), (2, "q", 0.0, 1.0)])
    assert stats["q"].count == 2
    assert stats["q"].discrimination is None
    assert stats["q"].upper_lower is None
    assert grading.item_statistics([]) == {}
