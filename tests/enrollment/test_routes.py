from app.auth.roles import Role
from app.enrollment.models import Enrollment, EnrollmentStatus
from app.enrollment.services import enrol
from app.extensions import db
from tests.conftest import create_person, create_programme, create_run, create_user, login


def test_learner_enrols_and_withdraws(client, outbox):
    run = create_run(capacity=1)
    learner, waiting = create_user(), create_user()
    login(client, learner)
    response = client.post(f"/runs/{run.id}/enrol", follow_redirects=True)
    assert b"You are enrolled" in response.data
    enrollment = db.session.query(Enrollment).one()
    client.post("/auth/sign-out")
    login(client, waiting)
    response = client.post(f"/runs/{run.id}/enrol", follow_redirects=True)
    assert b"waiting list" in response.data
    client.post("/auth/sign-out")
    login(client, learner)
    client.post(f"/enrollments/{enrollment.id}/withdraw")
    promoted = db.session.query(Enrollment).filter_by(person_id=waiting.person_id).one()
    assert promoted.status == EnrollmentStatus.ENROLLED
    assert any("A seat is yours" in m["Subject"] for m in outbox)


def test_learner_cannot_withdraw_someone_else(client):
    run = create_run()
    other = enrol(run=run, person=create_person(), by=None)
    db.session.commit()
    login(client, create_user())
    assert client.post(f"/enrollments/{other.id}/withdraw").status_code == 403


def test_my_courses_lists_status(client):
    run = create_run(course=None)
    user = create_user()
    enrol(run=run, person=user.person, by=None)
    db.session.commit()
    login(client, user)
    page = client.get("/my-courses").get_data(as_text=True)
    assert run.course.title_en in page and "Enrolled" in page


def test_manager_bulk_enrols_and_approves_only_in_own_programme(client):
    mine, other = create_programme(), create_programme()
    manager = create_user(Role.MANAGER, programme=mine)
    run, foreign = create_run(mine, requires_approval=True), create_run(other)
    people = [create_person(), create_person()]
    login(client, manager)
    response = client.post(
        f"/runs/{run.id}/enrolments/bulk",
        data={"emails": f"{people[0].email}, {people[1].email}\nunknown@example.org"},
        follow_redirects=True,
    )
    assert b"2 people enrolled" in response.data and b"unknown@example.org" in response.data
    assert client.get(f"/runs/{foreign.id}/enrolments").status_code == 403
    assert (
        client.post(
            f"/runs/{foreign.id}/enrolments/bulk", data={"emails": people[0].email}
        ).status_code
        == 403
    )
    pending = enrol(run=run, person=create_person(), by=None)
    db.session.commit()
    client.post(f"/enrollments/{pending.id}/approve")
    db.session.refresh(pending)
    assert pending.status == EnrollmentStatus.ENROLLED


def test_counts_per_course_and_municipality(client):
    programme = create_programme()
    manager = create_user(Role.MANAGER, programme=programme)
    run = create_run(programme)
    for _ in range(3):
        enrol(run=run, person=create_person(), by=None)
    db.session.commit()
    login(client, manager)
    page = client.get(f"/programmes/{programme.id}/enrolment-counts").get_data(as_text=True)
    assert run.course.code in page and "Prishtinë/Priština" in page
    assert client.get(f"/programmes/{create_programme().id}/enrolment-counts").status_code == 403


def test_bulk_enrolment_ignores_nul_bytes_in_the_list(client):
    """Found by tests/fuzz on PostgreSQL, which refuses NUL in text: a 500 before."""
    programme = create_programme()
    manager = create_user(Role.MANAGER, programme=programme)
    run = create_run(programme)
    person = create_person()
    login(client, manager)
    response = client.post(
        f"/runs/{run.id}/enrolments/bulk",
        data={"emails": f"{person.email}\x00\nnobody\x00@example.org"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert b"1 people enrolled" in response.data or b"1 person enrolled" in response.data
