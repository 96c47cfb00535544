"""GIFT import and export, on a corpus written from Moodle's documented syntax."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.quizzes import gift
from app.quizzes.banks import apply_drafts
from app.quizzes.gift import GiftError, parse_gift, to_drafts
from app.quizzes.models import BankSource, QuestionBank
from tests.conftest import create_course


def one(text: str):
    questions = parse_gift(text)
    assert len(questions) == 1
    return questions[0]


def problems(text: str) -> list[str]:
    with pytest.raises(GiftError) as caught:
        parse_gift(text, "bank.gift")
    return [str(p) for p in caught.value.problems]


# --- multiple choice ---------------------------------------------------------------------------


def test_single_choice_with_right_and_wrong_answers():
    q = one("Which city is the capital of Kosovo?{=Prishtinë ~Prizren ~Pejë}")
    assert q.qtype == "single_choice"
    assert q.text == "Which city is the capital of Kosovo?"
    assert [(c["text"]["en"], c["weight"]) for c in q.data["choices"]] == [
        ("Prishtinë", 100.0),
        ("Prizren", 0.0),
        ("Pejë", 0.0),
    ]


def test_missing_word_format_puts_a_blank_in_the_sentence():
    q = one("The e-Kosova portal {=issues ~sells ~bans} civil-status extracts.")
    assert q.text == "The e-Kosova portal _____ civil-status extracts."
    assert q.qtype == "single_choice"


def test_multi_line_question_with_feedback_per_answer_and_comments():
    text = """// A question spread over lines
::Phishing signs::
Which of these is the strongest sign
of a phishing e-mail? {
  ~A greeting with your name#Attackers often know it.
  =A link to "confirm your account" within 24 hours#Right: urgency and a link.
  // a comment inside the answers
  ~Your municipality's logo#Logos are easy to copy.
}
"""
    q = one(text)
    assert q.title == "Phishing signs"
    assert q.text == "Which of these is the strongest sign\nof a phishing e-mail?"
    assert q.line == 2
    choices = q.data["choices"]
    assert len(choices) == 3
    assert choices[1]["weight"] == 100.0
    assert choices[1]["feedback"] == {"en": "Right: urgency and a link."}
    assert choices[0]["feedback"] == {"en": "Attackers often know it."}


def test_multiple_answers_with_weights_become_multiple_choice():
    q = one("Which are DigComp areas?{~%50%Safety ~%50%Problem solving ~%-100%Cooking}")
    assert q.qtype == "multiple_choice"
    assert [c["weight"] for c in q.data["choices"]] == [50.0, 50.0, -100.0]


def test_decimal_weights_and_partial_credit_in_single_choice():
    q = one("Pick one {=Best ~%33.33333%Good ~%-25%Bad ~Neutral}")
    assert q.qtype == "single_choice"
    assert [c["weight"] for c in q.data["choices"]] == [100.0, 33.33333, -25.0, 0.0]


def test_three_thirds_add_up_for_multiple_answers():
    q = one("Pick all {~%33.33333%A ~%33.33333%B ~%33.33333%C ~%-100%D}")
    assert q.qtype == "multiple_choice"


# --- true/false --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("braces", "answer"),
    [
        ("{T}", True),
        ("{TRUE}", True),
        ("{F}", False),
        ("{FALSE}", False),
        ("{true}", True),
        ("{ f }", False),
    ],
)
def test_true_false_forms(braces, answer):
    q = one(f"MFA blocks most account takeovers.{braces}")
    assert q.qtype == "true_false"
    assert q.data["answer"] is answer


def test_true_false_feedback_is_wrong_then_right():
    q = one(
        "SMS codes beat security keys.{FALSE#No: keys resist phishing.#Right, keys are stronger.}"
    )
    assert q.data == {
        "answer": False,
        "feedback_true": {"en": "No: keys resist phishing."},
        "feedback_false": {"en": "Right, keys are stronger."},
    }


# --- short answer ------------------------------------------------------------------------------


def test_short_answer_with_several_accepted_answers_weights_and_feedback():
    q = one(
        "Who supervises data protection?{=Information and Privacy Agency =AIP#Short form. =%50%the agency#Which one?}"
    )
    assert q.qtype == "short_answer"
    assert q.data["answers"] == [
        {"text": "Information and Privacy Agency", "weight": 100.0},
        {"text": "AIP", "weight": 100.0, "feedback": {"en": "Short form."}},
        {"text": "the agency", "weight": 50.0, "feedback": {"en": "Which one?"}},
    ]


def test_short_answer_without_equals_sign_is_one_accepted_answer():
    q = one("Capital of Kosovo?{Prishtinë}")
    assert q.qtype == "short_answer"
    assert q.data["answers"] == [{"text": "Prishtinë", "weight": 100.0}]


# --- numerical ---------------------------------------------------------------------------------


def test_numerical_exact_tolerance_and_range():
    assert one("Hours to notify a breach?{#72}").data["answers"] == [
        {"value": 72.0, "tolerance": 0.0, "weight": 100.0}
    ]
    assert one("Pi?{#3.14:0.01}").data["answers"] == [
        {"value": 3.14, "tolerance": 0.01, "weight": 100.0}
    ]
    assert one("Between one and five?{#1..5}").data["answers"] == [
        {"min": 1.0, "max": 5.0, "weight": 100.0}
    ]
    assert one("Cold?{#-10..-2.5}").data["answers"] == [
        {"min": -10.0, "max": -2.5, "weight": 100.0}
    ]


def test_numerical_with_several_weighted_answers_and_feedback():
    text = """When was the Law on Personal Data adopted?{#
    =2019:0#Exactly.
    =%50%2019:1#Close.
    ~#It was adopted in 2019.
}"""
    q = one(text)
    assert q.qtype == "numerical"
    assert q.data["answers"] == [
        {"value": 2019.0, "tolerance": 0.0, "weight": 100.0, "feedback": {"en": "Exactly."}},
        {"value": 2019.0, "tolerance": 1.0, "weight": 50.0, "feedback": {"en": "Close."}},
    ]
    assert q.data["other_feedback"] == {"en": "It was adopted in 2019."}


def test_numerical_star_with_zero_weight_is_other_feedback():
    q = one("How many regions?{#=7 =%0%*#Kosovo has seven regions.}")
    assert q.data["answers"] == [{"value": 7.0, "tolerance": 0.0, "weight": 100.0}]
    assert q.data["other_feedback"] == {"en": "Kosovo has seven regions."}


# --- matching ----------------------------------------------------------------------------------


def test_matching_pairs_with_shared_answers_and_a_distractor():
    text = """Match the identifier to its kind. {
    =Personal number -> Direct
    =Vehicle plate -> Direct
    =Date of birth -> Indirect
    = -> Not an identifier
}"""
    q = one(text)
    assert q.qtype == "matching"
    assert [o["text"]["en"] for o in q.data["options"]] == [
        "Direct",
        "Indirect",
        "Not an identifier",
    ]
    assert [i["answer"] for i in q.data["items"]] == ["o1", "o1", "o2"]


def test_matching_on_one_line():
    q = one("Match capitals.{=Albania->Tirana =Montenegro->Podgorica =Serbia->Belgrade}")
    assert len(q.data["items"]) == 3


# --- titles, escapes, formats, categories, comments --------------------------------------------


def test_escaped_special_characters_everywhere():
    text = (
        r"::Maths\: sums::1 + 2 \= ? Use \{braces\} and a \~tilde, \#hash and a back\\slash.{"
        "\n"
        r"=3\: three#Right\: 3 ~4 \= four}"
    )
    q = one(text)
    assert q.title == "Maths: sums"
    assert q.text == "1 + 2 = ? Use {braces} and a ~tilde, #hash and a back\\slash."
    assert q.data["choices"][0]["text"]["en"] == "3: three"
    assert q.data["choices"][0]["feedback"]["en"] == "Right: 3"
    assert q.data["choices"][1]["text"]["en"] == "4 = four"


def test_escaped_newline_inside_a_line():
    q = one(r"First line\nsecond line{T}")
    assert q.text == "First line\nsecond line"


def test_general_feedback():
    q = one("Encrypt laptops?{TRUE####BitLocker or FileVault protect a stolen laptop.}")
    assert q.general_feedback == "BitLocker or FileVault protect a stolen laptop."
    assert q.data["answer"] is True


def test_format_markers():
    assert one("[markdown]Is **CSV** better than PDF for data?{T}").text_format == "markdown"
    assert one("[plain]Plain *text*?{T}").text_format == "plain"
    assert one("[moodle]Moodle text?{T}").text_format == "plain"
    html = one(
        "::H::[html]<p>Is <b>UTF-8</b> right?<br>Think&nbsp;again.</p>{=Yes#<i>Good</i> ~No}"
    )
    assert html.text == "Is UTF-8 right?\nThink\xa0again."
    assert html.text_format == "plain"
    assert html.data["choices"][0]["feedback"] == {"en": "Good"}


def test_categories_apply_to_the_questions_that_follow():
    text = """$CATEGORY: $course$/top/Passwords

Q1{T}

Q2{F}

$CATEGORY: $course$/top/Phishing
Q3{T}
"""
    questions = parse_gift(text)
    assert [q.category for q in questions] == [
        "$course$/top/Passwords",
        "$course$/top/Passwords",
        "$course$/top/Phishing",
    ]
    assert questions[2].line == 8


def test_id_and_tags_in_comments():
    text = "// question: 12  name: x\n// [id:ak102-q7] [tag:digcomp-2.6] [tag:level-5] [tag:mfa]\nMFA?{T}"
    q = one(text)
    assert q.idnumber == "ak102-q7"
    assert q.tags == ["digcomp-2.6", "level-5", "mfa"]
    draft = to_drafts([q], lang="sq", competence="4.1", level=2)[0]
    assert (draft.key, draft.competence, draft.level) == ("ak102-q7", "2.6", 5)
    assert draft.texts == {"sq": "MFA?"}


def test_defaults_and_keys_when_nothing_is_tagged():
    questions = parse_gift("::Same::A?{T}\n\n::Same::B?{F}\n\nC?{T}")
    drafts = to_drafts(questions, lang="en", competence="4.1", level=2)
    assert [d.key for d in drafts[:2]] == ["same", "same-2"]
    assert drafts[2].key.startswith("gift-")
    assert {d.competence for d in drafts} == {"4.1"}


def test_bad_tags_are_refused():
    questions = parse_gift("// [tag:digcomp-9.9] [tag:level-12]\nQ?{T}")
    with pytest.raises(GiftError) as caught:
        to_drafts(questions, lang="en", competence="4.1", level=2)
    assert len(caught.value.problems) == 2


def test_crlf_bom_and_blank_lines_inside_answers():
    text = "\ufeffQ1?{\r\n=Yes\r\n\r\n~No\r\n}\r\n\r\n\r\nQ2?{T}\r\n"
    questions = parse_gift(text)
    assert [q.line for q in questions] == [1, 8]
    assert len(questions[0].data["choices"]) == 2


def test_a_wide_file_parses_every_question():
    text = """// Akademia sample bank — every GIFT question type
$CATEGORY: AK-102/Accounts

::Q1:: Which factor is "something you have"? {
  =A security key
  ~A PIN
  ~A fingerprint
}

::Q2:: Passwords on sticky notes are fine in a locked office. {F}

::Q3:: Name the attack that replays leaked passwords on other sites. {
  =credential stuffing
  =%50%stuffing
}

::Q4:: How many hours to notify the Agency? {#72:0}

::Q5:: Match the step to its order. {
  =Contain -> 1
  =Assess -> 2
  =Notify -> 3
}

$CATEGORY: AK-102/Sharing

::Q6:: Which are safe channels? {
  ~%50%Official e-mail
  ~%50%Approved shared storage
  ~%-50%Personal Viber
  ~%-50%A found USB stick
}

::Q7:: Use BCC for mass e-mails {=to protect addresses ~to save time ~for colour} when writing to citizens.

::Q8:: [markdown]Is `UTF-8` needed for **ë** and **č**? {TRUE#It is.#Yes: UTF-8 covers them.####Always use UTF-8.}
"""
    questions = parse_gift(text)
    assert [q.title for q in questions] == [f"Q{n}" for n in range(1, 9)]
    assert [q.qtype for q in questions] == [
        "single_choice",
        "true_false",
        "short_answer",
        "numerical",
        "matching",
        "multiple_choice",
        "single_choice",
        "true_false",
    ]
    assert questions[6].text == "Use BCC for mass e-mails _____ when writing to citizens."
    assert questions[5].category == "AK-102/Sharing"


# --- errors: file, line and reason; nothing partial -------------------------------------------


def test_missing_closing_brace_names_its_line():
    found = problems("Good?{T}\n\n// comment\nBroken question {\n=yes\n~no\n")
    assert found == ["bank.gift:4: the answers opened with '{' are never closed with '}'"]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("Write an essay.{}", 1, "essay questions"),
        ("Just a description.", 1, "descriptions are not imported"),
        ("A } before {T}", 1, "'}' comes before any '{'"),
        ("Two blocks {T} and {F}", 1, "second answer block"),
        ("One answer {~only}", 1, "at least two answers"),
        ("Loose text {wrong ~a =b}", 1, "each answer must start with ~ or ="),
        ("Match {=a -> 1 =b}", 1, "'item -> match'"),
        ("Match {=a -> 1}", 1, "at least two pairs"),
        ("Number {#abc}", 1, "is not a number"),
        ("Number {#5..1}", 1, "runs backwards"),
        ("Number {#5:-1}", 1, "cannot be negative"),
        ("Weights {~%150%a ~b}", 1, "outside -100% to 100%"),
        ("Weights {~%50%a ~%20%b}", 1, "add up to 100%"),
        ("Weights {~%x%a =b}", 1, "weight must look like"),
        ("::Unclosed title {T}", 1, "no closing '::'"),
        ("Any number {#=%50%*}", 1, "'*' (any answer)"),
        ("{T}", 1, "has no text"),
        ("Empty answer {=a ~}", 1, "has no text"),
    ],
)
def test_malformed_questions_are_refused_with_a_reason(text, line, reason):
    found = problems(text)
    assert len(found) == 1
    assert found[0].startswith(f"bank.gift:{line}: ")
    assert reason in found[0]


def test_every_problem_is_reported_with_its_own_line():
    text = "Fine?{T}\n\nBad one {~only}\n\nFine too?{F}\n\n::T::\nMultiline\nbad {\n=a -> 1\n}\n"
    found = problems(text)
    assert [p.split(":")[1] for p in found] == ["3", "10"]


def test_empty_file_has_no_questions():
    assert problems("// only comments\n\n") == ["bank.gift:1: no questions found"]


# --- export and round trip ---------------------------------------------------------------------

CORPUS = r"""$CATEGORY: Round/Trip

// [id:single] [tag:digcomp-4.1] [tag:level-3]
::Single\: one:: Pick \{one\}\: {=Right#Well done ~%25%Partly ~Wrong#No \= never}

// [id:multi] [tag:digcomp-4.2] [tag:level-4]
::Multi:: Pick all {~%50%A ~%50%B ~%-100%C####Two of them.}

// [id:tf] [tag:digcomp-2.2] [tag:level-2]
::TF:: True? {FALSE#Wrong one.#Right one.}

// [id:short] [tag:digcomp-2.6] [tag:level-2]
::Short:: Say it {=phishing#Yes =%50%fishing#Spelling!}

// [id:number] [tag:digcomp-4.2] [tag:level-3]
::Number:: How many? {#=72:0#Exactly =%50%60..80#Close ~#It is 72.}

// [id:match] [tag:digcomp-4.2] [tag:level-5]
::Match:: Pair them {=PIN -> know =Key -> have =Phone -> have = -> are}

// [id:md] [tag:digcomp-4.1] [tag:level-3]
::Markdown::[markdown]Is **this** multi-line\nmarkdown?{T}
"""


def _bank(drafts):
    course = create_course()
    bank = QuestionBank(course=course, slug="gift", title_en="GIFT", source=BankSource.GIFT)
    db.session.add(bank)
    db.session.flush()
    apply_drafts(bank, drafts, retire_missing=False)
    db.session.commit()
    return bank


def _signature(questions):
    return [
        (q.qtype, q.text, q.title, q.category, q.text_format, q.data, q.general_feedback)
        for q in questions
    ]


def test_export_then_import_gives_the_same_questions():
    first = parse_gift(CORPUS)
    bank = _bank(to_drafts(first, lang="en", competence="1.1", level=1))
    exported = gift.export_gift(bank.questions, "en")
    second = parse_gift(exported)
    assert _signature(second) == _signature(first)
    drafts = to_drafts(second, lang="en", competence="1.1", level=1)
    assert [(d.key, d.competence, d.level) for d in drafts] == [
        ("single", "4.1", 3),
        ("multi", "4.2", 4),
        ("tf", "2.2", 2),
        ("short", "2.6", 2),
        ("number", "4.2", 3),
        ("match", "4.2", 5),
        ("md", "4.1", 3),
    ]


def test_export_escapes_special_characters():
    assert gift.escape("a:b=c~d#e{f}g\\h\ni") == r"a\:b\=c\~d\#e\{f\}g\\h\ni"


def test_export_in_another_language_falls_back_to_english():
    bank = _bank(
        to_drafts(parse_gift("::Q:: English only?{T}"), lang="en", competence="1.1", level=1)
    )
    bank.questions[0].text_sq = "Vetëm shqip?"
    assert "Vetëm shqip?" in gift.export_gift(bank.questions, "sq")
    assert "English only?" in gift.export_gift(bank.questions, "sr")


def test_export_writes_a_title_even_without_one():
    from app.quizzes.banks import QuestionDraft

    odd = QuestionDraft("k1", "true_false", "1.1", 1, {"en": "// not a comment"}, {"answer": True})
    bank = _bank([odd])
    exported = gift.export_gift(bank.questions, "en")
    assert "::k1::" in exported
    assert parse_gift(exported)[0].text == "// not a comment"


# Text a trainer might type: letters with diacritics, GIFT's special characters, new lines.
gift_text = (
    st.text(
        alphabet=st.sampled_from(list("abcëçčćšžđ XYZ019.,?!'\"()-/:=~#{}\\\n%$[]>")),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(lambda t: t and not t.startswith(("[", "%")) and t.strip("_ \n"))
)


@settings(max_examples=150, deadline=None)
@given(text=gift_text, right=gift_text, wrong=gift_text, feedback=gift_text)
def test_any_text_survives_export_and_import(text, right, wrong, feedback):
    class Q:  # the attributes export_question reads
        key, title, competence, level, qtype, text_format, category = (
            "k",
            None,
            "1.1",
            1,
            "single_choice",
            "plain",
            None,
        )
        data = {
            "choices": [
                {"id": "c1", "text": {"en": right}, "weight": 100.0, "feedback": {"en": feedback}},
                {"id": "c2", "text": {"en": wrong}, "weight": 0.0},
            ]
        }

        @staticmethod
        def text(lang):
            return text

        @staticmethod
        def general_feedback(lang):
            return ""

    (back,) = parse_gift(gift.export_gift([Q], "en"))
    assert back.text == text
    assert back.data["choices"][0]["text"]["en"] == right
    assert back.data["choices"][0]["feedback"]["en"] == feedback
    assert back.data["choices"][1]["text"]["en"] == wrong
