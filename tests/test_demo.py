import sqlalchemy as sa

from app.attendance.models import Attendance, CourseSession
from app.auth.models import User
from app.demo import DEMO_PASSWORD, load_demo
from app.enrollment.models import Enrollment
from app.extensions import db


def counts():
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (User, Enrollment, CourseSession, Attendance)
    )


def test_demo_data_loads_once_and_signs_in(client):
    logins = load_demo()
    db.session.commit()
    first = counts()
    assert first[0] == 4 and all(first)
    load_demo()
    db.session.commit()
    assert counts() == first
    for _role, email in logins:
        response = client.post("/auth/sign-in", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302
        client.post("/auth/sign-out")
