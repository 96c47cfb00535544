"""Every quiz and survey URL, with real objects, as every kind of user: no 500, the right refusals.

tests/test_access.py walks every URL with ids that point at nothing; this walk gives the
quiz and survey URLs a quiz, an open and a graded attempt, a bank and a survey to point at.
"""

import re
from datetime import date, timedelta

import pytest

from app.auth.roles import Role
from app.courses.models import CourseRunTrainer
from app.extensions import db
from app.quizzes import services as quiz_services
from app.surveys import services as survey_services
from app.surveys.models import SurveyKind
from app.timeutil import utcnow
from tests.conftest import create_programme, create_run, create_user, login
from tests.quizzes.factories import enrolled_learner, make_bank, make_quiz

OWN_ONLY = {"quizzes.attempt", "quizzes.save_answer", "quizzes.submit"}
# Banks belong to courses, which every programme shares: any trainer may read them.
SHARED = {"quizzes.banks", "quizzes.bank", "quizzes.export_gift"}


@pytest.fixture
def objects():
    programme = create_programme()
    today = date.today()
    run = create_run(programme, starts_on=today - timedelta(days=3), ends_on=today)
    bank = make_bank(run.course)
    quiz = make_quiz(run, bank)
    owner = enrolled_learner(run)
    graded = quiz_services.start_attempt(quiz=quiz, person=owner.person, now=utcnow())
    quiz_services.submit_attempt(attempt=graded, now=utcnow())
    open_attempt = quiz_services.start_attempt(quiz=quiz, person=owner.person, now=utcnow())
    survey = survey_services.schedule_survey(
        run=run, kind=SurveyKind.REACTION, send_on=today, closes_on=None, by=None
    )
    survey_services.send_survey(survey, now=utcnow())
    db.session.commit()
    users = {
        "owner": owner,
        "other learner": enrolled_learner(run),
        "outsider": create_user(),
        "trainer": create_user(Role.TRAINER, programme=programme),
        "other trainer": create_user(Role.TRAINER, programme=create_programme()),
        "manager": create_user(Role.MANAGER, programme=programme),
        "admin": create_user(Role.ADMIN),
    }
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=users["trainer"].id))
    db.session.commit()
    values = {
        "run_id": run.id,
        "quiz_id": quiz.id,
        "attempt_id": open_attempt.id,
        "bank_id": bank.id,
        "survey_id": survey.id,
        "token": "no-such-token",
    }
    return users, values, graded.id


def _rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("quizzes", "surveys"):
            yield rule, app.view_functions[rule.endpoint]


def _url(rule, values, graded_id):
    if rule.endpoint == "quizzes.review":
        values = {**values, "attempt_id": graded_id}
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def test_every_quiz_and_survey_url_answers_every_user(app, objects):
    users, values, graded_id = objects
    failures = []
    for who in [None, *users]:
        client = app.test_client()
        if who:
            login(client, users[who])
        for rule, view in _rules(app):
            method = "GET" if "GET" in rule.methods else "POST"
            url = _url(rule, values, graded_id)
            status = client.open(url, method=method).status_code
            required = getattr(view, "required_roles", None)
            if status >= 500:
                failures.append(f"{who} {method} {url}: {status}")
            elif who is None and not getattr(view, "is_public", False) and status != 302:
                failures.append(f"anonymous {method} {url}: {status}")
            elif who in ("owner", "other learner", "outsider") and required and status != 403:
                failures.append(f"{who} {method} {url}: {status}, expected 403")
            elif who in ("other learner", "outsider", "trainer", "manager", "other trainer") and (
                rule.endpoint in OWN_ONLY and status not in (403,)
            ):
                failures.append(f"{who} {method} {url}: {status}, only the owner may")
            elif (
                who == "other trainer"
                and required
                and rule.endpoint not in SHARED
                and status != 403
            ):
                failures.append(f"{who} {method} {url}: {status}, not their run")
    assert failures == []
