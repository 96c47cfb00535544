"""Quiz pages: status, permissions, no answers before submission, replays, exports, queries."""

import csv
import io
import re
import threading
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.auth.roles import Role
from app.courses.models import CourseRunTrainer
from app.extensions import db
from app.quizzes import services
from app.quizzes.models import (
    Attempt,
    AttemptState,
    Question,
    QuestionBank,
    Quiz,
    QuizKind,
    ShowWhen,
)
from app.timeutil import utcnow
from tests.conftest import create_course, create_programme, create_run, create_user, login
from tests.query_counter import count_queries
from tests.quizzes.factories import (
    FEEDBACK,
    NUMBER,
    SHORT_ANSWER,
    draft,
    enrolled_learner,
    make_bank,
    make_quiz,
    right_values,
    sample_drafts,
)


@pytest.fixture
def world():
    programme = create_programme()
    run = create_run(programme)
    bank = make_bank(run.course)
    trainer = create_user(Role.TRAINER, programme=programme)
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=trainer.id))
    db.session.commit()
    learner = enrolled_learner(run)
    return run, bank, trainer, learner


def start_via_http(client, quiz) -> Attempt:
    response = client.post(f"/quizzes/{quiz.id}/start")
    assert response.status_code == 302, response.get_data(as_text=True)
    attempt_id = int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))
    return db.session.get(Attempt, attempt_id)


def form_for(values: dict) -> dict:
    data = {"slot": [str(p) for p in values]}
    for fields in values.values():
        data.update(fields)
    return data


SECRETS = (SHORT_ANSWER, str(NUMBER), FEEDBACK, "weight", '"correct"')


def assert_no_answers(text: str):
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked before submission"


# --- the learner's journey ---------------------------------------------------------------------


def test_learner_takes_a_quiz_and_nothing_leaks_before_submission(client, world):
    run, bank, _trainer, learner = world
    quiz = make_quiz(run, bank, show_answers=ShowWhen.AFTER_SUBMIT)
    login(client, learner)
    page = client.get(f"/runs/{run.id}/quizzes")
    assert page.status_code == 200
    assert quiz.title in page.get_data(as_text=True)
    assert client.get(f"/quizzes/{quiz.id}").status_code == 200
    attempt = start_via_http(client, quiz)
    html = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert 'name="q1' in html
    assert_no_answers(html)
    assert not re.search(r'value="c\d"', html), "choice ids would reveal the authored order"
    values = right_values(attempt)
    for position, fields in values.items():
        response = client.post(
            f"/attempts/{attempt.id}/answers", json={"position": position, "values": fields}
        )
        assert response.status_code == 200
        assert response.get_json()["saved"] is True
        assert_no_answers(response.get_data(as_text=True))
    resumed = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    # The learner's own typing comes back, and nothing else.
    assert f'value="{SHORT_ANSWER}"' in resumed and f'value="{NUMBER}"' in resumed
    assert_no_answers(
        resumed.replace(f'value="{NUMBER}"', "").replace(f'value="{SHORT_ANSWER}"', "")
    )
    assert client.get(f"/attempts/{attempt.id}/review").status_code == 302  # still open
    response = client.post(f"/attempts/{attempt.id}/submit", data={"action": "submit"})
    assert response.status_code == 302
    review = client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "100" in review
    assert FEEDBACK in review  # after submission, with answers shown: the scan above was real
    assert SHORT_ANSWER in review


def test_answers_stay_hidden_until_the_quiz_closes(client, world):
    run, bank, _trainer, learner = world
    quiz = make_quiz(
        run, bank, show_answers=ShowWhen.AFTER_CLOSE, closes_at=utcnow() + timedelta(days=2)
    )
    login(client, learner)
    attempt = start_via_http(client, quiz)
    client.post(
        f"/attempts/{attempt.id}/submit",
        data=form_for(right_values(attempt)) | {"action": "submit"},
    )
    review = client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "The right answers are shown after the quiz closes." in review
    assert_no_answers(review.replace(SHORT_ANSWER, "", 1).replace(str(NUMBER), "", 1))
    quiz.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert FEEDBACK in client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)


def test_scores_hidden_when_the_quiz_never_shows_results(client, world):
    run, bank, _trainer, learner = world
    quiz = make_quiz(run, bank, show_results=ShowWhen.NEVER, show_answers=ShowWhen.AFTER_SUBMIT)
    login(client, learner)
    attempt = start_via_http(client, quiz)
    client.post(f"/attempts/{attempt.id}/submit", data={"action": "submit"})
    review = client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "Your trainer will share the results." in review
    assert "Points" not in review
    assert_no_answers(review)


def test_plain_form_saves_without_submitting(client, world):
    run, bank, _trainer, learner = world
    quiz = make_quiz(run, bank)
    login(client, learner)
    attempt = start_via_http(client, quiz)
    response = client.post(
        f"/attempts/{attempt.id}/submit", data=form_for(right_values(attempt)) | {"action": "save"}
    )
    assert response.headers["Location"].endswith(f"/attempts/{attempt.id}")
    db.session.refresh(attempt)
    assert attempt.state == AttemptState.OPEN
    assert all(s.response is not None for s in attempt.slots)


def test_nobody_enrolled_elsewhere_can_open_the_run_quizzes(client, world):
    run, bank, _trainer, _learner = world
    quiz = make_quiz(run, bank)
    login(client, create_user())
    assert client.get(f"/runs/{run.id}/quizzes").status_code == 403
    assert client.get(f"/quizzes/{quiz.id}").status_code == 403
    assert client.post(f"/quizzes/{quiz.id}/start").status_code == 403


def test_a_learner_cannot_touch_another_learners_attempt(app, world):
    run, bank, _trainer, learner = world
    quiz = make_quiz(run, bank)
    owner, intruder = app.test_client(), app.test_client()
    login(owner, learner)
    login(intruder, enrolled_learner(run))
    attempt = start_via_http(owner, quiz)
    assert intruder.get(f"/attempts/{attempt.id}").status_code == 403
    assert (
        intruder.post(
            f"/attempts/{attempt.id}/answers", json={"position": 1, "values": {"q1": ["0"]}}
        ).status_code
        == 403
    )
    assert (
        intruder.post(f"/attempts/{attempt.id}/submit", data={"action": "submit"}).status_code
        == 403
    )
    owner.post(f"/attempts/{attempt.id}/submit", data={"action": "submit"})
    assert intruder.get(f"/attempts/{attempt.id}/review").status_code == 403
    db.session.refresh(attempt)
    assert attempt.state == AttemptState.SUBMITTED


def test_replayed_submission_and_late_answers_are_refused(client, world):
    run, bank, _trainer, learner = world
    quiz = make_quiz(run, bank)
    login(client, learner)
    attempt = start_via_http(client, quiz)
    form = form_for(right_values(attempt)) | {"action": "submit"}
    client.post(f"/attempts/{attempt.id}/submit", data=form)
    db.session.refresh(attempt)
    finished, score = attempt.finished_at, attempt.score
    replay = client.post(
        f"/attempts/{attempt.id}/submit",
        data={"slot": ["1"], "action": "submit"},
        follow_redirects=True,
    )
    assert "already submitted" in replay.get_data(as_text=True)
    late = client.post(
        f"/attempts/{attempt.id}/answers", json={"position": 1, "values": {"q1": []}}
    )
    assert late.status_code == 409
    assert late.get_json()["closed"] is True
    db.session.refresh(attempt)
    assert (attempt.finished_at, attempt.score) == (finished, score)


def test_two_concurrent_submissions_cannot_both_succeed(app, world, monkeypatch):
    run, bank, _trainer, learner = world
    quiz = make_quiz(run, bank)
    clients = [app.test_client(), app.test_client()]
    for client in clients:
        login(client, learner)
    attempt_id = start_via_http(clients[0], quiz).id
    db.session.commit()
    grade = services.grade_attempt
    graded = []

    def slow_grade(attempt_row):
        graded.append(attempt_row.id)
        time.sleep(0.3)  # hold the transaction open while the other request arrives
        grade(attempt_row)

    monkeypatch.setattr(services, "grade_attempt", slow_grade)
    barrier = threading.Barrier(2)
    statuses = []

    def submit(client):
        barrier.wait()
        response = client.post(f"/attempts/{attempt_id}/submit", data={"action": "submit"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [302, 302]
    assert graded == [attempt_id]  # exactly one request won the transition
    flashes = []
    for client in clients:
        with client.session_transaction() as session:
            flashes += [category for category, _message in session.get("_flashes", [])]
    assert sorted(flashes) == ["error", "success"]


def test_the_server_enforces_the_time_limit(client, world, app):
    run, bank, _trainer, learner = world
    quiz = make_quiz(run, bank, time_limit_minutes=5)
    login(client, learner)
    attempt = start_via_http(client, quiz)
    values = right_values(attempt)
    first = min(values)
    assert (
        client.post(
            f"/attempts/{attempt.id}/answers", json={"position": first, "values": values[first]}
        ).status_code
        == 200
    )
    # The clock runs out (plus the grace period) while the learner is away.
    attempt.deadline = utcnow() - timedelta(seconds=app.config.get("QUIZ_GRACE_SECONDS", 30) + 5)
    db.session.commit()
    second = sorted(values)[1]
    late = client.post(
        f"/attempts/{attempt.id}/answers", json={"position": second, "values": values[second]}
    )
    assert late.status_code == 409
    assert late.get_json()["review_url"].endswith(f"/attempts/{attempt.id}/review")
    db.session.refresh(attempt)
    assert attempt.state == AttemptState.TIMED_OUT
    assert attempt.score == 1
    page = client.get(f"/attempts/{attempt.id}")
    assert page.status_code == 302 and page.headers["Location"].endswith("/review")


def test_an_expired_attempt_is_closed_when_the_learner_comes_back(client, world):
    run, bank, _trainer, learner = world
    quiz = make_quiz(run, bank, time_limit_minutes=5)
    login(client, learner)
    attempt = start_via_http(client, quiz)
    attempt.deadline = utcnow() - timedelta(hours=1)
    db.session.commit()
    response = client.get(f"/attempts/{attempt.id}", follow_redirects=True)
    assert "Time ran out" in response.get_data(as_text=True)
    db.session.refresh(attempt)
    assert attempt.state == AttemptState.TIMED_OUT


def test_bad_json_is_a_400(client, world):
    run, bank, _trainer, learner = world
    login(client, learner)
    attempt = start_via_http(client, make_quiz(run, bank))
    assert client.post(f"/attempts/{attempt.id}/answers", json={"position": "x"}).status_code == 400
    assert (
        client.post(
            f"/attempts/{attempt.id}/answers", json={"position": 99, "values": {}}
        ).status_code
        == 400
    )


# --- trainers ----------------------------------------------------------------------------------


def test_trainer_creates_and_edits_a_quiz(client, world):
    run, bank, trainer, _learner = world
    login(client, trainer)
    assert client.get(f"/runs/{run.id}/quizzes/new").status_code == 200
    data = {
        "title": "Pre-test",
        "kind": "pre_test",
        "bank_id": bank.id,
        "per_competence": "1",
        "shuffle_questions": "y",
        "time_limit_minutes": "20",
        "max_attempts": "1",
        "pass_mark": "70",
        "opens_at": "2026-05-01T09:00",
        "show_results": "after_submit",
        "show_answers": "after_close",
    }
    response = client.post(f"/runs/{run.id}/quizzes/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    quiz = db.session.scalar(sa.select(Quiz))
    assert (quiz.kind, quiz.per_competence, quiz.time_limit_minutes) == (QuizKind.PRE_TEST, 1, 20)
    assert quiz.opens_at == datetime(2026, 5, 1, 7, 0)  # Europe/Belgrade summer time → UTC
    again = client.post(f"/runs/{run.id}/quizzes/new", data=data)
    assert "already has a Pre-test" in again.get_data(as_text=True)
    assert client.get(f"/quizzes/{quiz.id}/edit").status_code == 200
    edited = client.post(
        f"/quizzes/{quiz.id}/edit", data=data | {"title": "Baseline", "pass_mark": "60"}
    )
    assert edited.status_code == 302
    db.session.refresh(quiz)
    assert (quiz.title, quiz.pass_mark) == ("Baseline", 60.0)


def test_trainers_of_other_runs_and_learners_are_kept_out(client, world):
    run, bank, _trainer, learner = world
    quiz = make_quiz(run, bank)
    other = create_user(Role.TRAINER, programme=create_programme())
    login(client, other)
    for url in (
        f"/quizzes/{quiz.id}/results",
        f"/quizzes/{quiz.id}/results.csv",
        f"/quizzes/{quiz.id}/edit",
        f"/runs/{run.id}/knowledge-gain",
        f"/runs/{run.id}/quizzes/new",
    ):
        assert client.get(url).status_code == 403, url
    client.post("/auth/sign-out")
    login(client, learner)
    assert client.get(f"/quizzes/{quiz.id}/results").status_code == 403


def _sit(quiz, learner, fraction_right: float, now=None):
    """A graded attempt with roughly the given share of questions right."""
    attempt = services.start_attempt(quiz=quiz, person=learner.person, now=now or utcnow())
    values = right_values(attempt)
    keep = sorted(values)[: round(len(values) * fraction_right)]
    for position in keep:
        services.save_answer(
            attempt=attempt, position=position, values=values[position], now=now or utcnow()
        )
    services.submit_attempt(attempt=attempt, now=now or utcnow())
    db.session.commit()
    return attempt


def test_results_page_and_exports(client, world):
    run, bank, trainer, learner = world
    quiz = make_quiz(run, bank, title="Šifra čćžđ")
    learners = [learner] + [
        enrolled_learner(run, first_name=f"Ëmira{n}", last_name="Dušić") for n in range(4)
    ]
    for n, person in enumerate(learners):
        _sit(quiz, person, n / 4)
    login(client, trainer)
    page = client.get(f"/quizzes/{quiz.id}/results")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Dušić, Ëmira1" in html
    assert "Discrimination" in html
    response = client.get(f"/quizzes/{quiz.id}/results.csv")
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Last name", "First name", "E-mail"]
    assert len(rows) == 6
    assert any(row[0] == "Dušić" and row[1] == "Ëmira1" for row in rows)
    xlsx = client.get(f"/quizzes/{quiz.id}/results.xlsx")
    assert "attachment" in xlsx.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet.cell(1, 1).value == "Last name"
    assert sheet.max_row == 6
    assert sheet.cell(1, 12).value.startswith("4.") or sheet.cell(1, 12).value.startswith("4")


def test_exports_neutralise_formulas(client, world):
    run, bank, trainer, _learner = world
    quiz = make_quiz(run, bank)
    _sit(quiz, enrolled_learner(run, first_name="=HYPERLINK(1)"), 1)
    login(client, trainer)
    text = client.get(f"/quizzes/{quiz.id}/results.csv").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text


def test_gain_page_and_learner_progress(client, world):
    run, bank, trainer, learner = world
    pre = make_quiz(run, bank, kind=QuizKind.PRE_TEST, title="Before", pass_mark=70)
    post = make_quiz(run, bank, kind=QuizKind.POST_TEST, title="After", pass_mark=70)
    _sit(pre, learner, 1 / 3)
    _sit(post, learner, 1)
    login(client, trainer)
    html = client.get(f"/runs/{run.id}/knowledge-gain").get_data(as_text=True)
    assert "<svg" in html and "style=" not in html.split("<svg", 1)[1].split("</svg>")[0]
    assert "+66.7" in html
    client.post("/auth/sign-out")
    login(client, learner)
    mine = client.get(f"/runs/{run.id}/quizzes").get_data(as_text=True)
    assert "Your progress" in mine
    assert "You reached the pass mark" in mine
    assert "+66.7" in mine


def test_gift_import_and_export_pages(client, world):
    run, bank, trainer, _learner = world
    manager = create_user(Role.MANAGER, programme=run.programme)
    login(client, trainer)
    assert client.get("/quiz-banks/import").status_code == 403
    assert client.get("/quiz-banks").status_code == 200
    exported = client.get(f"/quiz-banks/{bank.id}/gift?lang=sq")
    assert "Pyetja single?" in exported.get_data(as_text=True)
    client.post("/auth/sign-out")
    login(client, manager)
    bad = client.post(
        "/quiz-banks/import",
        data={
            "course_id": run.course_id,
            "bank_id": "",
            "title": "New",
            "language": "en",
            "competence": "4.2",
            "level": "3",
            "text": "Fine?{T}\n\nBroken {\n=a\n",
        },
    )
    html = bad.get_data(as_text=True)
    assert "Nothing was imported" in html
    assert "pasted text:3: the answers opened with" in html
    assert db.session.scalar(sa.select(sa.func.count(QuestionBank.id))) == 1
    good = client.post(
        "/quiz-banks/import",
        data={
            "course_id": run.course_id,
            "bank_id": "",
            "title": "New",
            "language": "en",
            "competence": "4.2",
            "level": "3",
            "file": (io.BytesIO("::Ë:: Çfarë?{=Po ~Jo}".encode()), "sq.gift"),
        },
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    imported = db.session.scalar(sa.select(QuestionBank).where(QuestionBank.title_en == "New"))
    assert [q.title for q in imported.questions] == ["Ë"]
    assert client.get(f"/quiz-banks/{imported.id}").status_code == 200


# --- constant number of queries ----------------------------------------------------------------


def _many_questions(n):
    drafts = []
    for i in range(n):
        template = sample_drafts()[i % 6]
        drafts.append(
            draft(
                f"{template.key}-{i}", template.qtype, template.data, competence=template.competence
            )
        )
    return drafts


def _attempt_page_queries(client, run, questions):
    bank = make_bank(run.course, _many_questions(questions), slug=f"b{questions}")
    quiz = make_quiz(run, bank)
    attempt = start_via_http(client, quiz)
    for position, fields in right_values(attempt).items():
        services.save_answer(attempt=attempt, position=position, values=fields, now=utcnow())
    db.session.commit()
    db.session.expire_all()
    with count_queries() as counter:
        assert client.get(f"/attempts/{attempt.id}").status_code == 200
    attempt_queries = counter.count
    client.post(f"/attempts/{attempt.id}/submit", data={"action": "submit"})
    db.session.expire_all()
    with count_queries() as counter:
        assert client.get(f"/attempts/{attempt.id}/review").status_code == 200
    return attempt_queries, counter.count


def test_quiz_pages_use_a_constant_number_of_queries(client, world):
    run, _bank, _trainer, learner = world
    login(client, learner)
    small = _attempt_page_queries(client, run, 6)
    large = _attempt_page_queries(client, run, 30)
    assert small == large


def _result_queries(client, trainer, run, learners):
    pre = db.session.scalar(
        sa.select(Quiz).where(Quiz.run_id == run.id, Quiz.kind == QuizKind.PRE_TEST)
    )
    post = db.session.scalar(
        sa.select(Quiz).where(Quiz.run_id == run.id, Quiz.kind == QuizKind.POST_TEST)
    )
    for n in range(learners):
        person = enrolled_learner(run)
        _sit(pre, person, 0.5)
        _sit(post, person, (n % 4) / 3)
    login(client, trainer)
    counts = []
    for url in (
        f"/quizzes/{post.id}/results",
        f"/runs/{run.id}/knowledge-gain",
        f"/runs/{run.id}/quizzes",
        f"/quizzes/{post.id}/results.csv",
    ):
        db.session.expire_all()
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        counts.append(counter.count)
    return counts


def test_result_tables_use_a_constant_number_of_queries(app, world):
    run, bank, trainer, _learner = world
    make_quiz(run, bank, kind=QuizKind.PRE_TEST)
    make_quiz(run, bank, kind=QuizKind.POST_TEST)
    few = _result_queries(app.test_client(), trainer, run, 2)
    many = _result_queries(app.test_client(), trainer, run, 10)
    assert few == many


def test_retired_questions_are_not_drawn(client, world):
    run, bank, _trainer, learner = world
    db.session.execute(sa.update(Question).where(Question.key == "single").values(active=False))
    db.session.commit()
    login(client, learner)
    attempt = start_via_http(client, make_quiz(run, bank))
    assert "single" not in {s.question.key for s in attempt.slots}


def test_course_run_page_links_to_quizzes_for_learners_and_trainers(client, world):
    run, _bank, trainer, learner = world
    login(client, learner)
    assert f"/runs/{run.id}/quizzes" in client.get(f"/runs/{run.id}").get_data(as_text=True)
    client.post("/auth/sign-out")
    login(client, trainer)
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert f"/runs/{run.id}/knowledge-gain" in html


def test_bank_pages_list_questions_with_answers_for_staff(client, world):
    run, bank, trainer, _learner = world
    login(client, trainer)
    html = client.get(f"/quiz-banks/{bank.id}").get_data(as_text=True)
    assert SHORT_ANSWER in html
    other_course_bank = make_bank(create_course(), slug="x")
    assert client.get(f"/quiz-banks/{other_course_bank.id}").status_code == 200


@pytest.mark.parametrize("body", [[1, 2], "position", 7, None, {"position": 2**70, "values": {}}])
def test_answer_save_refuses_json_that_is_not_an_answer(client, world, body):
    """Found by tests/fuzz: a JSON list or string instead of an object gave a 500."""
    run, bank, _trainer, learner = world
    quiz = make_quiz(run, bank)
    login(client, learner)
    attempt = start_via_http(client, quiz)
    response = client.post(f"/attempts/{attempt.id}/answers", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"] in (
        "The answer could not be read.",
        "There is no question 1180591620717411303424 in this attempt.",
    )
