"""Survey pages: who plans, who answers, what trainers see."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.auth.roles import Role
from app.courses.models import CourseRunTrainer
from app.extensions import db
from app.surveys.models import Survey, SurveyInvitation, SurveyResponse
from tests.conftest import create_programme, create_run, create_user, login
from tests.quizzes.factories import enrolled_learner


@pytest.fixture
def world():
    programme = create_programme()
    today = date.today()
    run = create_run(programme, starts_on=today - timedelta(days=5), ends_on=today)
    trainer = create_user(Role.TRAINER, programme=programme)
    manager = create_user(Role.MANAGER, programme=programme)
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=trainer.id))
    db.session.commit()
    learners = [enrolled_learner(run, first_name=f"Drita{n}") for n in range(3)]
    return run, trainer, manager, learners


def plan(client, run, kind="reaction", send_on=None):
    return client.post(
        f"/runs/{run.id}/surveys/new",
        data={"kind": kind, "send_on": (send_on or date.today()).isoformat()},
    )


def test_trainer_sends_the_course_feedback_survey_and_learners_answer_by_link(app, world, outbox):
    run, trainer, _manager, learners = world
    client = app.test_client()
    login(client, trainer)
    assert client.get(f"/runs/{run.id}/surveys").status_code == 200
    response = plan(client, run)
    assert response.status_code == 302
    assert len(outbox) == 3
    body = outbox[0].get_content()
    token_url = re.search(r"http://localhost(/surveys/answer/\S+)", body).group(1)
    visitor = app.test_client()  # the e-mail link works without signing in
    page = visitor.get(token_url)
    assert page.status_code == 200
    assert "Overall, how satisfied" in page.get_data(as_text=True)
    missing = visitor.post(token_url, data={"overall": "5"})
    assert "This field is required" in missing.get_data(
        as_text=True
    ) or "Not a valid choice" in missing.get_data(as_text=True)
    done = visitor.post(
        token_url, data={"overall": "5", "relevance": "4", "trainer": "5", "comment": "Shumë mirë"}
    )
    assert "Thank you" in done.get_data(as_text=True)
    again = visitor.get(token_url)
    assert "already answered" in again.get_data(as_text=True)
    response = db.session.scalar(sa.select(SurveyResponse))
    assert (response.overall, response.person_id, response.comment) == (5, None, "Shumë mirë")


def test_signed_in_learner_answers_from_the_course_page(client, world):
    run, trainer, _manager, learners = world
    login(client, trainer)
    plan(client, run)
    client.post("/auth/sign-out")
    login(client, learners[0])
    mine = client.get(f"/runs/{run.id}/surveys").get_data(as_text=True)
    survey = db.session.scalar(sa.select(Survey))
    assert f"/surveys/{survey.id}/respond" in mine
    response = client.post(
        f"/surveys/{survey.id}/respond",
        data={"overall": "4", "relevance": "4", "trainer": "3", "comment": "Signed", "signed": "y"},
    )
    assert "Thank you" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(SurveyResponse.person_id)) == learners[0].person.id
    assert "Answered, thank you" in client.get(f"/runs/{run.id}/surveys").get_data(as_text=True)


def test_only_invited_people_answer(client, world):
    run, trainer, _manager, _learners = world
    login(client, trainer)
    plan(client, run)
    client.post("/auth/sign-out")
    outsider = create_user()
    login(client, outsider)
    survey = db.session.scalar(sa.select(Survey))
    assert client.get(f"/surveys/{survey.id}/respond").status_code == 403
    assert client.get(f"/runs/{run.id}/surveys").status_code == 403
    assert client.get("/surveys/answer/not-a-token").status_code == 404


def test_follow_up_is_planned_by_the_manager(client, world):
    run, trainer, manager, _learners = world
    later = run.ends_on + timedelta(days=100)
    login(client, trainer)
    assert plan(client, run, "follow_up", later).status_code == 403
    client.post("/auth/sign-out")
    login(client, manager)
    too_soon = plan(client, run, "follow_up", run.ends_on + timedelta(days=10))
    assert "3 to 6 months" in too_soon.get_data(as_text=True)
    assert plan(client, run, "follow_up", later).status_code == 302
    survey = db.session.scalar(sa.select(Survey))
    assert survey.sent_at is None
    page = client.get(f"/runs/{run.id}/surveys").get_data(as_text=True)
    assert "planned" in page


def test_results_wait_for_three_answers_and_hide_names(app, world):
    run, trainer, manager, learners = world
    client = app.test_client()
    login(client, manager)
    plan(client, run)
    survey = db.session.scalar(sa.select(Survey))
    invitations = db.session.scalars(
        sa.select(SurveyInvitation).order_by(SurveyInvitation.id)
    ).all()
    client.post("/auth/sign-out")
    login(client, trainer)
    for n, learner in enumerate(learners):
        learner_client = app.test_client()
        login(learner_client, learner)
        learner_client.post(
            f"/surveys/{survey.id}/respond",
            data={
                "overall": str(5 - n),
                "relevance": "4",
                "trainer": "5",
                "comment": f"Comment {n}",
                "signed": "y" if n == 2 else "",
            },
        )
        page = client.get(f"/surveys/{survey.id}/results").get_data(as_text=True)
        if n < 2:
            assert "Results appear once at least 3 people have answered" in page
            assert "Comment 0" not in page
    assert len(invitations) == 3
    assert "100 %" in page  # response rate
    assert "Comment 0" in page and "Comment 1" in page
    assert learners[0].person.first_name not in page  # anonymous comments stay anonymous
    assert learners[2].person.full_name in page  # a signed comment shows its author
    assert "67 %" in page  # two of three rated 4 or 5


def test_learner_cannot_see_results(client, world):
    run, trainer, _manager, learners = world
    login(client, trainer)
    plan(client, run)
    survey = db.session.scalar(sa.select(Survey))
    client.post("/auth/sign-out")
    login(client, learners[0])
    assert client.get(f"/surveys/{survey.id}/results").status_code == 403
    assert client.post(f"/surveys/{survey.id}/send").status_code == 403
