"""Quizzes in Chromium: a timed attempt that survives a lost connection, the clock, and the
trainer's pre/post page."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth.roles import Role
from app.courses.models import CourseRunTrainer
from app.extensions import db
from app.quizzes import services
from app.quizzes.models import Attempt, AttemptSlot, AttemptState, QuizKind, ShowWhen
from app.timeutil import utcnow
from tests.browser.conftest import run_axe
from tests.browser.test_journeys import sign_in
from tests.conftest import create_programme, create_run, create_user
from tests.quizzes.factories import (
    SHORT_ANSWER,
    enrolled_learner,
    make_bank,
    make_quiz,
    right_values,
    sample_drafts,
)

pytestmark = pytest.mark.browser


def three_questions(run):
    """Single choice, true/false and short answer, in this order and unshuffled."""
    drafts = {d.key: d for d in sample_drafts()}
    return make_bank(run.course, [drafts["single"], drafts["truefalse"], drafts["short"]])


def queue_size(page, attempt_id: int) -> int:
    return page.evaluate(
        "id => Object.keys(JSON.parse(localStorage.getItem('akademia.attempt.' + id) || '{}')).length",
        attempt_id,
    )


def saved_answers(attempt_id: int) -> int:
    db.session.rollback()  # end the test's read snapshot to see what the server wrote
    return db.session.scalar(
        sa.select(sa.func.count(AttemptSlot.id)).where(
            AttemptSlot.attempt_id == attempt_id, AttemptSlot.response.is_not(None)
        )
    )


def test_timed_quiz_survives_a_lost_connection(page, context, live_server):
    run = create_run()
    make_quiz(
        run,
        three_questions(run),
        title="Cyber hygiene check",
        time_limit_minutes=15,
        shuffle_questions=False,
        shuffle_choices=False,
        show_answers=ShowWhen.AFTER_SUBMIT,
    )
    learner = enrolled_learner(run)
    sign_in(page, live_server, learner)
    page.goto(f"{live_server}/runs/{run.id}/quizzes")
    page.get_by_role("link", name="Start").click()
    page.get_by_role("button", name="Start the quiz").click()
    page.get_by_role("heading", name="Cyber hygiene check").wait_for()
    attempt_id = int(re.search(r"/attempts/(\d+)", page.url).group(1))
    assert re.search(r"Time left: 1[45]:\d\d", page.locator("#timer").inner_text())

    page.get_by_label("Right choice").check()
    page.get_by_text("All answers saved.").wait_for()
    assert saved_answers(attempt_id) == 1

    # The connection drops; the learner keeps answering.
    context.set_offline(True)
    page.get_by_label("True", exact=True).check()
    page.get_by_label("Your answer").fill(SHORT_ANSWER)
    page.get_by_text("You are offline").wait_for()
    page.wait_for_function(
        "id => Object.keys(JSON.parse(localStorage.getItem('akademia.attempt.' + id) || '{}')).length === 2",
        arg=attempt_id,
    )
    assert saved_answers(attempt_id) == 1
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Submit my answers").click()  # refused while offline
    page.get_by_text("Wait until the connection is back").wait_for()

    # Back online: the queued answers go to the server by themselves.
    context.set_offline(False)
    page.get_by_text("All answers saved.").wait_for()
    assert queue_size(page, attempt_id) == 0
    assert saved_answers(attempt_id) == 3

    # Reloading resumes the same attempt with every answer.
    page.reload()
    assert page.get_by_label("Right choice").is_checked()
    assert page.get_by_label("True", exact=True).is_checked()
    assert page.get_by_label("Your answer").input_value() == SHORT_ANSWER
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Submit my answers").click()
    page.get_by_text("Your attempt is submitted.").wait_for()
    assert "100" in page.locator(".stats").inner_text()
    db.session.rollback()
    assert db.session.get(Attempt, attempt_id).state == AttemptState.SUBMITTED
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_answers_kept_on_the_device_are_sent_after_the_tab_comes_back(page, live_server):
    run = create_run()
    quiz = make_quiz(run, three_questions(run), shuffle_questions=False, shuffle_choices=False)
    learner = enrolled_learner(run)
    sign_in(page, live_server, learner)
    page.goto(f"{live_server}/quizzes/{quiz.id}")
    page.get_by_role("button", name="Start the quiz").click()
    attempt_id = int(re.search(r"/attempts/(\d+)", page.url).group(1))
    # The server cannot be reached (a dropped request, the browser still thinks it is online).
    page.route("**/answers", lambda route: route.abort())
    page.get_by_label("Right choice").check()
    page.get_by_text("could not be saved").wait_for()
    assert queue_size(page, attempt_id) == 1
    assert saved_answers(attempt_id) == 0
    # The learner closes the tab and opens the attempt again later.
    page.unroute("**/answers")
    page.goto("about:blank")
    page.goto(f"{live_server}/attempts/{attempt_id}")
    assert page.get_by_label("Right choice").is_checked()
    page.get_by_text("All answers saved.").wait_for()
    assert saved_answers(attempt_id) == 1


def test_the_page_submits_itself_when_time_runs_out(page, live_server):
    run = create_run()
    quiz = make_quiz(run, three_questions(run), time_limit_minutes=1, shuffle_choices=False)
    learner = enrolled_learner(run)
    attempt = services.start_attempt(quiz=quiz, person=learner.person, now=utcnow())
    attempt.deadline = utcnow() + timedelta(seconds=4)
    db.session.commit()
    sign_in(page, live_server, learner)
    page.goto(f"{live_server}/attempts/{attempt.id}")
    page.get_by_label("Right choice").check()
    page.wait_for_url(re.compile(r"/review$"), timeout=15_000)
    page.get_by_text("Your attempt is submitted.").wait_for()
    db.session.rollback()
    finished = db.session.get(Attempt, attempt.id)
    assert finished.state == AttemptState.SUBMITTED
    assert finished.score == 1


def _sit(quiz, learner, right: int):
    attempt = services.start_attempt(quiz=quiz, person=learner.person, now=utcnow())
    values = right_values(attempt)
    for position in sorted(values)[:right]:
        services.save_answer(
            attempt=attempt, position=position, values=values[position], now=utcnow()
        )
    services.submit_attempt(attempt=attempt, now=utcnow())
    db.session.commit()


def test_trainer_sees_the_pre_post_gain(page, live_server):
    programme = create_programme()
    run = create_run(programme)
    trainer = create_user(Role.TRAINER, programme=programme)
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=trainer.id))
    db.session.commit()
    bank = three_questions(run)
    pre = make_quiz(run, bank, kind=QuizKind.PRE_TEST, title="Before", pass_mark=60)
    post = make_quiz(run, bank, kind=QuizKind.POST_TEST, title="After", pass_mark=60)
    for before, after, name in ((1, 3, "Arta"), (0, 2, "Milan")):
        learner = enrolled_learner(run, first_name=name, last_name="Test")
        _sit(pre, learner, before)
        _sit(post, learner, after)
    sign_in(page, live_server, trainer)
    page.goto(f"{live_server}/runs/{run.id}")
    page.get_by_role("link", name="Pre-test and post-test").click()
    page.get_by_role("heading", name=re.compile("Pre-test and post-test")).wait_for()
    summary = page.locator("#gain-summary").inner_text()
    assert "2" in summary and "+66.7" in summary
    rows = page.locator("#gain-table tbody tr")
    assert rows.count() == 2
    assert "+66.7" in rows.filter(has_text="Arta").inner_text()
    assert page.locator("figure.chart svg").first.is_visible()
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


@pytest.fixture
def axe_page(browser):
    context = browser.new_context(bypass_csp=True, locale="en-GB")
    yield context.new_page()
    context.close()


def test_quiz_pages_are_accessible_and_fit_a_phone(axe_page, browser, live_server):
    programme = create_programme()
    run = create_run(programme)
    trainer = create_user(Role.TRAINER, programme=programme)
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=trainer.id))
    db.session.commit()
    bank = make_bank(run.course)
    quiz = make_quiz(run, bank, kind=QuizKind.PRE_TEST, time_limit_minutes=10)
    learner = enrolled_learner(run)
    attempt = services.start_attempt(quiz=quiz, person=learner.person, now=utcnow())
    db.session.commit()
    found = {}
    sign_in(axe_page, live_server, learner)
    for path in (f"/runs/{run.id}/quizzes", f"/quizzes/{quiz.id}", f"/attempts/{attempt.id}"):
        axe_page.goto(live_server + path)
        if violations := run_axe(axe_page):
            found[path] = violations
    phone = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    mobile = phone.new_page()
    sign_in(mobile, live_server, learner)
    mobile.goto(f"{live_server}/attempts/{attempt.id}")
    overflow = mobile.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the attempt page scrolls sideways by {overflow}px"
    phone.close()
    db.session.rollback()  # drop the read snapshot before writing beside the live server
    attempt = db.session.get(Attempt, attempt.id)
    services.submit_attempt(attempt=attempt, now=utcnow())
    db.session.commit()
    axe_page.context.clear_cookies()
    sign_in(axe_page, live_server, trainer)
    for path in (
        f"/quizzes/{quiz.id}/results",
        f"/runs/{run.id}/knowledge-gain",
        f"/quiz-banks/{bank.id}",
    ):
        axe_page.goto(live_server + path)
        if violations := run_axe(axe_page):
            found[path] = violations
    assert found == {}
