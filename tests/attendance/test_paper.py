"""The printable sign-in sheet of a session, and helpers shared by the paper tests."""

import io
import time
from datetime import date, datetime, timedelta

import pytest
from pypdf import PdfReader

from app.auth.roles import Role
from app.courses.models import CourseRunTrainer
from app.enrollment.models import EnrollmentSource
from app.enrollment.services import enrol
from app.extensions import db
from app.people import services as people_services
from app.people.models import InstitutionType
from app.timeutil import utcnow
from tests.attendance.helpers import add_session
from tests.conftest import (
    create_course,
    create_person,
    create_programme,
    create_run,
    create_user,
    login,
    municipality,
)

# (first name, last name, municipality code, institution)
LEARNERS = [
    ("Arbëresha", "Çeku", "gjakove", "Komuna e Gjakovës"),
    ("Đorđe", "Đorđević", "gracanice", "Opština Gračanica"),
    ("Shpëtim", "Berisha", "prishtine", None),
    ("Šejla", "Žagar", "shterpce", "Opština Štrpce"),
    ("Ćamil", "Çollaku", "decan", None),
]


def past(days: int, hour: int = 8) -> datetime:
    """A whole hour some days ago, in naive UTC."""
    return (utcnow() - timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def paper_run(learners=LEARNERS, *, enrolled_days_ago: int = 120, **run_values):
    """A run of a programme around today, with a trainer and learners enrolled months ago."""
    today = date.today()
    programme = create_programme(
        name="Agjenda Digjitale — Çështje të qeverisjes",
        starts_on=today - timedelta(days=365),
        ends_on=today + timedelta(days=365),
    )
    course = create_course(title_en="Digital public services", title_sq="Shërbimet publike")
    run_values.setdefault("capacity", 200)
    run = create_run(programme, course, **run_values)
    trainer = create_user(Role.TRAINER, programme=programme, first_name="Vjosa", last_name="Hoxha")
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=trainer.id))
    people = []
    institutions = {}
    for first, last, code, institution in learners:
        place = municipality(code)
        if institution and institution not in institutions:
            institutions[institution] = people_services.create_institution(
                name=institution, municipality_id=place.id, type_=InstitutionType.MUNICIPALITY
            )
        people.append(
            create_person(
                first_name=first,
                last_name=last,
                municipality=place,
                institution=institutions.get(institution),
            )
        )
    for person in people:
        enrol(
            run=run,
            person=person,
            by=None,
            now=utcnow() - timedelta(days=enrolled_days_ago),
            source=EnrollmentSource.MANAGER,
        )
    db.session.commit()
    return run, people, trainer


def pdf_text(data: bytes) -> str:
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def pages_of(data: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture
def sheet_run():
    run, people, trainer = paper_run()
    session = add_session(run, starts_at=past(-3, hour=8))  # in three days
    return run, people, trainer, session


def test_sign_in_sheet_lists_the_learners_with_diacritics(client, sheet_run):
    run, people, trainer, session = sheet_run
    login(client, trainer)
    response = client.get(f"/sessions/{session.id}/sign-in-sheet.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "inline" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    for name in ("Çeku Arbëresha", "Đorđević Đorđe", "Berisha Shpëtim", "Žagar Šejla"):
        assert name in text
    for place in ("Gjakovë/Đakovica", "Graçanicë/Gračanica", "Shtërpcë/Štrpce"):
        assert place in text.replace("/ ", "/")  # a narrow column may wrap after the slash
    assert "Komuna e Gjakovës" in text and "Opština Štrpce" in text
    assert run.programme.name in text and "Digital public services" in text
    assert "Sala e Kuvendit" in text and "Vjosa Hoxha" in text
    assert "Signature" in text and "Page 1 of 1" in text


def test_sign_in_sheet_sorts_by_last_name_and_adds_rows_for_walk_ins(client, sheet_run):
    _run, _people, trainer, session = sheet_run
    login(client, trainer)
    text = pdf_text(client.get(f"/sessions/{session.id}/sign-in-sheet.pdf?blank=3").data)
    order = ["Berisha", "Çeku", "Çollaku", "Đorđević", "Žagar"]
    positions = [text.index(f"{name} ") for name in order]
    assert positions == sorted(positions)
    # Five learners, then rows 6 to 8 left empty for people who were not on the list.
    assert "5 Žagar Šejla" in text
    tail = text[text.index("Žagar Šejla") :]
    assert "6 7 8" in tail
    assert "9" not in tail.split("Not on the list")[0]


def test_long_sheet_repeats_the_column_headers_and_numbers_pages(client):
    names = [(f"Learnerë{i:02d}", f"Krasniqi{i:02d}", "prishtine", None) for i in range(40)]
    run, _people, trainer = paper_run(names)
    session = add_session(run, starts_at=past(-2))
    login(client, trainer)
    started = time.perf_counter()
    data = client.get(f"/sessions/{session.id}/sign-in-sheet.pdf").data
    elapsed = time.perf_counter() - started
    pages = pages_of(data)
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert "No. Name Municipality Institution Signature" in page
        assert f"Page {number} of {len(pages)}" in page
    assert elapsed < 10  # measured ≈ 0.2 s warm; a generous bound for slow machines


def test_sign_in_sheet_follows_the_interface_language(client, sheet_run):
    _run, _people, trainer, session = sheet_run
    trainer.locale = "sq"
    db.session.commit()
    login(client, trainer)
    text = pdf_text(client.get(f"/sessions/{session.id}/sign-in-sheet.pdf").data)
    assert "Komuna" in text  # "Municipality" in Albanian
    assert "Shërbimet publike" in text  # the course title in Albanian


def test_sign_in_sheet_of_a_cancelled_session_says_so(client, sheet_run):
    from app.attendance import services

    _run, _people, trainer, session = sheet_run
    services.cancel_session(session=session, message="Anuluar")
    db.session.commit()
    login(client, trainer)
    assert "This session is cancelled." in pdf_text(
        client.get(f"/sessions/{session.id}/sign-in-sheet.pdf").data
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("trainer", 200),
        ("manager", 200),
        ("admin", 200),
        ("other_trainer", 403),
        ("other_manager", 403),
        ("learner", 403),
    ],
)
def test_sign_in_sheet_permissions(client, sheet_run, who, status):
    run, people, trainer, session = sheet_run
    other = create_programme()
    users = {
        "trainer": trainer,
        "manager": create_user(Role.MANAGER, programme=run.programme),
        "admin": create_user(Role.ADMIN),
        # A trainer of the programme who does not teach this run.
        "other_trainer": create_user(Role.TRAINER, programme=run.programme),
        "other_manager": create_user(Role.MANAGER, programme=other),
        "learner": create_user(Role.LEARNER),
    }
    login(client, users[who])
    assert client.get(f"/sessions/{session.id}/sign-in-sheet.pdf").status_code == status


def test_sign_in_sheet_needs_a_sign_in_and_an_existing_session(client, sheet_run):
    _run, _people, trainer, session = sheet_run
    response = client.get(f"/sessions/{session.id}/sign-in-sheet.pdf")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]
    login(client, trainer)
    assert client.get(f"/sessions/{session.id + 1000}/sign-in-sheet.pdf").status_code == 404


def test_run_page_links_to_the_register_and_the_sign_in_sheets(client, sheet_run):
    run, people, trainer, _session = sheet_run
    login(client, trainer)
    page = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert f"/runs/{run.id}/register" in page
    assert f"/runs/{run.id}/attendance/import" in page
    assert "#sign-in-sheets" in page
