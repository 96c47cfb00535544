"""Every built-in measure and breakdown against the values computed by hand in dataset.py."""

import pytest

from app.reports.aggregate import TOTAL, compute
from app.reports.measures import MEASURES
from app.reports.scope import Scope
from tests.reports.dataset import NOW, Q1, build


@pytest.fixture
def scope(app):
    world = build()
    return Scope(world.programme.id, *Q1, threshold=80, now=NOW)


def total(key, scope):
    return compute(MEASURES[key], scope)[TOTAL].value


def breakdown(key, scope, dimension):
    return {k: v.value for k, v in compute(MEASURES[key], scope, dimension).items()}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("people_trained", 3),
        ("participations", 5),
        ("sessions_held", 9),
        ("training_hours", 22),
        ("person_hours", 46),
        ("municipalities_reached", 1),
        ("municipal_coverage", 100 / 38),
        ("activity_participants", 2),
        ("talkdigital_participants", 2),
        ("organisations_reached", 2),
        ("certificates_issued", 1),
        ("knowledge_pass_share", 50),
        ("knowledge_mean_pre", 55),
        ("knowledge_mean_post", 70),
        ("knowledge_mean_gain", 15),
        ("satisfaction_share", 50),
        ("application_rate", 0),
        ("survey_response_rate", 200 / 3),
    ],
)
def test_measure_totals_match_the_hand_count(scope, key, expected):
    assert total(key, scope) == pytest.approx(expected)


def test_people_trained_by_every_dimension(scope):
    assert breakdown("people_trained", scope, "sex") == {"female": 2, "undisclosed": 1}
    assert breakdown("people_trained", scope, "age_band") == {"30-44": 1, "45-64": 2}
    assert breakdown("people_trained", scope, "municipality") == {"prishtine": 2, "unknown": 1}
    assert breakdown("people_trained", scope, "region") == {"prishtina": 2, "unknown": 1}
    assert breakdown("people_trained", scope, "institution_type") == {
        "municipality": 2,
        "unknown": 1,
    }
    assert breakdown("people_trained", scope, "target_group") == {"municipal_official": 2, "cso": 1}


def test_a_person_trained_in_two_courses_counts_once_but_participates_twice(scope):
    assert total("people_trained", scope) == 3
    assert breakdown("participations", scope, "sex") == {"female": 3, "male": 1, "undisclosed": 1}


def test_late_enrolment_is_not_absence(scope, app):
    # D attended 3 of 5 sessions but enrolled after the first two: trained, 45–64 and female.
    assert breakdown("people_trained", scope, "age_band")["45-64"] == 2


def test_knowledge_gain_leaves_out_a_pre_test_alone(scope):
    assert breakdown("knowledge_mean_gain", scope, "sex") == {"female": pytest.approx(15)}
    assert {k: v.n for k, v in compute(MEASURES["knowledge_pass_share"], scope, "sex").items()} == {
        "female": 2
    }


def test_person_hours_and_sessions_by_place(scope):
    assert breakdown("person_hours", scope, "sex") == {
        "female": pytest.approx(22 + 6),
        "male": pytest.approx(6),
        "undisclosed": pytest.approx(12),
    }
    assert breakdown("training_hours", scope, "municipality") == {"prishtine": pytest.approx(22)}
    assert breakdown("sessions_held", scope, "region") == {"prishtina": 9}
    assert breakdown("sessions_held", scope, "sex") == {}  # sessions have no sex


def test_organisations_and_municipalities(scope):
    assert breakdown("organisations_reached", scope, "institution_type") == {
        "municipality": 1,
        "media": 1,
    }
    assert breakdown("organisations_reached", scope, "region") == {"prishtina": 1, "gjilan": 1}
    coverage = breakdown("municipal_coverage", scope, "region")
    assert coverage["prishtina"] == pytest.approx(100 / 8) and coverage["gjilan"] == 0


def test_anonymous_answers_are_counted_as_unknown(scope):
    assert breakdown("satisfaction_share", scope, "sex") == {"female": 100, "unknown": 0}


def test_a_later_period_sees_its_own_runs(app):
    world = build()
    q2 = Scope(
        world.programme.id,
        world.periods["2026 Q2"].starts_on,
        world.periods["2026 Q2"].ends_on,
        threshold=80,
        now=NOW,
    )
    assert total("people_trained", q2) == 1  # E in R3
    assert total("sessions_held", q2) == 1
    assert total("application_rate", q2) == 100  # A's "partly" in May
