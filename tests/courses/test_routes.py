from datetime import date

from app.auth.roles import Role
from app.extensions import db
from tests.conftest import (
    create_course,
    create_programme,
    create_run,
    create_user,
    login,
    municipality,
)


def test_catalogue_filters(client):
    programme = create_programme()
    create_run(
        programme,
        create_course(title_en="Open data for municipalities"),
        municipality=municipality("prizren"),
    )
    create_run(
        programme, create_course(title_en="Cyber hygiene"), municipality=municipality("gjakove")
    )
    page = client.get("/courses").get_data(as_text=True)
    assert "Open data" in page and "Cyber hygiene" in page
    page = client.get("/courses?q=cyber").get_data(as_text=True)
    assert "Cyber hygiene" in page and "Open data" not in page
    prizren = municipality("prizren").id
    page = client.get(f"/courses?municipality={prizren}").get_data(as_text=True)
    assert "Open data" in page and "Cyber hygiene" not in page


def test_catalogue_seats_filter(client):
    from app.enrollment.services import enrol

    run = create_run(capacity=1, course=create_course(title_en="Tiny course"))
    enrol(run=run, person=create_user().person, by=None)
    db.session.commit()
    assert "Tiny course" in client.get("/courses").get_data(as_text=True)
    assert "Tiny course" not in client.get("/courses?seats=y").get_data(as_text=True)


def test_catalogue_bad_filter_values_do_not_fail(client):
    response = client.get("/courses?date_from=notadate&municipality=abc&page=-3")
    assert response.status_code == 200


def test_course_detail_and_lesson_render_markdown_safely(client):
    from app.courses.models import Lesson, Module

    course = create_course(slug="safe", description_en="<script>alert(1)</script> **bold**")
    module = Module(course=course, slug="m", position=1, title_en="Module")
    module.lessons.append(
        Lesson(
            slug="l1",
            position=1,
            title_en="Lesson one",
            body_md="## Heading\n[x](javascript:alert(1))",
        )
    )
    db.session.add(module)
    db.session.commit()
    page = client.get("/courses/safe").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<strong>bold</strong>" in page
    lesson = client.get("/courses/safe/lessons/l1").get_data(as_text=True)
    assert "<h2>Heading</h2>" in lesson and 'href="javascript' not in lesson


def test_manager_schedules_run_only_in_own_programme(client):
    mine, other = create_programme(), create_programme()
    manager = create_user(Role.MANAGER, programme=mine)
    trainer = create_user(Role.TRAINER, programme=mine)
    course = create_course()
    login(client, manager)
    data = {
        "course_id": course.id,
        "starts_on": "2026-12-01",
        "ends_on": "2026-12-03",
        "venue": "Hall",
        "municipality_id": municipality().id,
        "language": "sq",
        "capacity": "20",
        "enrol_opens_at": "2026-11-01T08:00",
        "enrol_closes_at": "2026-11-30T17:00",
        "published": "y",
        "trainer_ids": [trainer.id],
    }
    response = client.post(f"/programmes/{mine.id}/runs/new", data=data)
    assert response.status_code == 302
    assert client.post(f"/programmes/{other.id}/runs/new", data=data).status_code == 403


def test_run_form_rejects_dates_outside_programme(client):
    programme = create_programme(starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
    manager = create_user(Role.MANAGER, programme=programme)
    login(client, manager)
    response = client.post(
        f"/programmes/{programme.id}/runs/new",
        data={
            "course_id": create_course().id,
            "starts_on": "2027-02-01",
            "ends_on": "2027-02-03",
            "venue": "Hall",
            "municipality_id": municipality().id,
            "language": "sq",
            "capacity": "20",
            "enrol_opens_at": "2026-11-01T08:00",
            "enrol_closes_at": "2026-11-30T17:00",
        },
    )
    assert response.status_code == 200
    assert b"within the programme" in response.data
    assert b"Hall" in response.data


def test_roster_only_for_trainers_of_the_run(client):
    programme = create_programme()
    run = create_run(programme)
    trainer = create_user(Role.TRAINER, programme=programme)
    other_trainer = create_user(Role.TRAINER, programme=programme)
    from app.courses.models import CourseRunTrainer

    db.session.add(CourseRunTrainer(run_id=run.id, user_id=trainer.id))
    db.session.commit()
    login(client, other_trainer)
    assert client.get(f"/runs/{run.id}/roster").status_code == 403
    client.post("/auth/sign-out")
    login(client, trainer)
    assert client.get(f"/runs/{run.id}/roster").status_code == 200
    assert client.get("/teaching").status_code == 200


def test_catalogue_query_count_is_constant(client, app):
    from tests.query_counter import count_queries

    programme = create_programme()
    for _ in range(3):
        create_run(programme)
    with count_queries() as few:
        client.get("/courses")
    for _ in range(9):
        create_run(programme)
    with count_queries() as many:
        client.get("/courses")
    assert many.count == few.count


def test_catalogue_per_programme(client):
    first, second = create_programme(name="First grant"), create_programme(name="Second grant")
    create_run(first, create_course(title_en="Course of the first"))
    create_run(second, create_course(title_en="Course of the second"))
    page = client.get(f"/courses?programme={first.id}").get_data(as_text=True)
    assert "Course of the first" in page and "Course of the second" not in page
