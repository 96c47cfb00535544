"""The register (sessions × learners), its XLSX and CSV exports, and a learner's own view."""

import csv
import io
import secrets
from datetime import datetime, timedelta

import openpyxl
import pytest
from flask_babel import to_user_timezone

from app.attendance import exports
from app.attendance.models import Attendance, AttendanceStatus, Channel
from app.auth.models import User, UserRole
from app.auth.roles import Role
from app.enrollment.models import EnrollmentSource
from app.enrollment.services import enrol
from app.extensions import db
from app.timeutil import utcnow
from tests.attendance.helpers import add_session
from tests.attendance.test_paper import paper_run, past
from tests.conftest import _PASSWORD_HASH, create_person, create_programme, create_user, login
from tests.query_counter import count_queries

P, L, E, A = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.ABSENT,
)


def put(session, person, status):
    """A mark written straight to the table: these tests are about reading."""
    db.session.add(
        Attendance(
            session_id=session.id,
            person_id=person.id,
            status=status,
            marked_at=session.starts_at,
            channel=Channel.ROLL_CALL,
            client_id=secrets.token_hex(8),
        )
    )


@pytest.fixture
def world():
    """Five learners, three sessions held and one to come, and a learner who came late."""
    run, people, trainer = paper_run()
    sessions = [add_session(run, starts_at=past(d)) for d in (21, 14, 7, -7)]
    s1, s2, s3, _s4 = sessions
    cekus, djordje, berisha, zagar, collaku = sorted(people, key=lambda p: p.id)
    for session, status in zip((s1, s2, s3), (P, P, L), strict=True):
        put(session, cekus, status)  # 3 of 3
    for session, status in zip((s1, s2, s3), (P, A, E), strict=True):
        put(session, djordje, status)  # 1 of 3
    put(s1, berisha, P)
    put(s2, berisha, P)  # 2 of 3, the third not marked
    for session in (s1, s2, s3):
        put(session, zagar, L)  # late counts as attended: 3 of 3
    # Çollaku has no marks at all: 0 of 3.
    late_comer = create_person(first_name="Blerta", last_name="Ademi")
    enrol(run=run, person=late_comer, by=None, now=utcnow() - timedelta(days=10),
          source=EnrollmentSource.MANAGER)  # fmt: skip
    put(s3, late_comer, P)  # 1 of 1: the first two sessions were before she enrolled
    db.session.commit()
    people = {"cekus": cekus, "djordje": djordje, "berisha": berisha, "zagar": zagar,
              "collaku": collaku, "ademi": late_comer}  # fmt: skip
    return run, people, trainer, sessions


def row_of(view, person):
    return next(learner for learner in view["learners"] if learner["person_id"] == person.id)


def test_register_cells_rates_and_flags(app, world):
    run, people, _trainer, sessions = world
    with app.test_request_context():
        view = exports.register_view(run, utcnow())
    assert [s["id"] for s in view["sessions"]] == [s.id for s in sessions]
    assert [s["held"] for s in view["sessions"]] == [True, True, True, False]
    expected = {
        "cekus": (["present", "present", "late", ""], 3, 3, 100, False),
        "djordje": (["present", "absent", "excused", ""], 1, 3, 33, True),
        "berisha": (["present", "present", "unmarked", ""], 2, 3, 67, True),
        "zagar": (["late", "late", "late", ""], 3, 3, 100, False),
        "collaku": (["unmarked", "unmarked", "unmarked", ""], 0, 3, 0, True),
        # Enrolled after the first two sessions: blank there, not absent, and not counted.
        "ademi": (["", "", "present", ""], 1, 1, 100, False),
    }
    for key, (cells, attended, counted, percent, below) in expected.items():
        learner = row_of(view, people[key])
        assert learner["cells"] == cells, key
        assert (learner["attended"], learner["counted"], learner["percent"], learner["below"]) == (
            attended,
            counted,
            percent,
            below,
        ), key
    assert view["below_count"] == 3 and view["threshold"] == 80
    assert [f"{x['last_name']}" for x in view["learners"]] == [
        "Ademi", "Berisha", "Çeku", "Çollaku", "Đorđević", "Žagar"
    ]  # fmt: skip
    first = view["sessions"][0]
    assert first["totals"] == {"present": 3, "late": 1, "excused": 0, "absent": 0}
    assert first["attended"] == 4 and first["unmarked"] == 1


def test_register_page_shows_marks_legend_and_who_is_below_threshold(client, world):
    run, people, trainer, _sessions = world
    login(client, trainer)
    response = client.get(f"/runs/{run.id}/register")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<strong>3</strong>\n    <span>learners below the threshold of 80%</span>" in page
    assert "3 learners attend less than 80% of the sessions held" in page
    assert page.count("Below 80%") == 3
    assert '<span class="visually-hidden">Excused</span>' in page  # for screen readers
    assert '<span class="visually-hidden">Not marked</span>' in page
    assert "Đorđević, Đorđe" in page and "33&nbsp;%" in page
    for label in ("Present", "Late", "Excused", "Absent"):
        assert label in page
    assert f"/runs/{run.id}/register.xlsx" in page and f"/runs/{run.id}/register.csv" in page
    for session in world[3]:
        assert f"/sessions/{session.id}/sign-in-sheet.pdf" in page


def header(session) -> str:
    return to_user_timezone(session.starts_at).strftime("%d.%m.%Y")


def test_register_xlsx_opens_with_formats_and_totals(client, world):
    run, people, trainer, sessions = world
    login(client, trainer)
    response = client.get(f"/runs/{run.id}/register.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Register", "Sessions", "Legend"]
    sheet = workbook["Register"]
    headers = [cell.value for cell in sheet[1]]
    assert headers[:5] == ["No.", "Last name", "First name", "E-mail", "Municipality"]
    assert headers[5:9] == [header(s) for s in sessions]
    assert headers[9:] == ["Attended", "Sessions counted", "Rate", "Below threshold"]
    assert sheet.freeze_panes == "F2"
    assert sheet[1][0].font.bold
    assert sheet.column_dimensions["D"].width >= 20
    rows = {row[1]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["Đorđević"][5:9] == ("P", "A", "E", None)
    assert rows["Ademi"][5:9] == (None, None, "P", None)
    assert rows["Đorđević"][9:] == (1, 3, pytest.approx(1 / 3), "yes")
    assert rows["Çollaku"][11] == 0 and rows["Çeku"][11] == 1
    rate_cell = sheet.cell(row=2, column=12)
    assert isinstance(rate_cell.value, int | float) and rate_cell.number_format == "0%"
    # Totals: the attended column adds up to the Sessions sheet's totals.
    attended_total = sum(row[9] for row in rows.values())
    totals = list(workbook["Sessions"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in totals] == [header(s) for s in sessions]
    assert sum(row[-1] for row in totals) == attended_total == 3 + 1 + 2 + 3 + 0 + 1
    assert totals[0][1:] == (3, 1, 0, 0, 1, 4)  # P, L, E, A, not marked, attended
    legend = [row for row in workbook["Legend"].iter_rows(values_only=True) if row and row[0]]
    assert ("P", "Present") in legend and ("A", "Absent") in legend


def test_register_csv_is_utf8_with_bom_and_semicolons(client, world):
    run, _people, trainer, sessions = world
    login(client, trainer)
    response = client.get(f"/runs/{run.id}/register.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][5:9] == [header(s) for s in sessions] and rows[0][-2] == "Rate %"
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["Đorđević"][2] == "Đorđe"
    assert by_name["Đorđević"][5:] == ["P", "A", "E", "", "1", "3", "33", "yes"]
    assert by_name["Žagar"][2] == "Šejla" and by_name["Çeku"][2] == "Arbëresha"
    assert "Ã" not in text and "Ä" not in text  # no mojibake


@pytest.mark.parametrize(
    ("who", "status"),
    [("trainer", 200), ("manager", 200), ("admin", 200), ("other_trainer", 403),
     ("other_manager", 403), ("learner", 403)],
)  # fmt: skip
def test_register_permissions(client, world, who, status):
    run, _people, trainer, _sessions = world
    users = {
        "trainer": trainer,
        "manager": create_user(Role.MANAGER, programme=run.programme),
        "admin": create_user(Role.ADMIN),
        "other_trainer": create_user(Role.TRAINER, programme=run.programme),
        "other_manager": create_user(Role.MANAGER, programme=create_programme()),
        "learner": create_user(Role.LEARNER),
    }
    login(client, users[who])
    for suffix in ("register", "register.xlsx", "register.csv"):
        assert client.get(f"/runs/{run.id}/{suffix}").status_code == status
    if status == 200:
        assert client.get(f"/runs/{run.id + 1000}/register").status_code == 404


def _sized_run(learners: int, sessions: int):
    institution = f"Komuna e Prishtinës {learners}"
    names = [(f"Emër{i}", f"Mbiemër{i}", "prishtine", institution) for i in range(learners)]
    run, people, trainer = paper_run(names)
    held = [add_session(run, starts_at=past(d + 1)) for d in range(sessions)]
    for session in held:
        for person in people:
            put(session, person, P)
    db.session.commit()
    return run, trainer


@pytest.mark.parametrize("suffix", ["register", "register.xlsx", "register.csv"])
def test_register_queries_do_not_grow_with_learners_and_sessions(app, suffix):
    counts = []
    for learners, sessions in ((5, 4), (30, 12)):
        run, trainer = _sized_run(learners, sessions)
        client = app.test_client()
        login(client, trainer)
        with count_queries() as counter:
            response = client.get(f"/runs/{run.id}/{suffix}")
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


# --- A learner's own attendance ------------------------------------------------------------


def account_for(person) -> User:
    user = User(
        person=person, password_hash=_PASSWORD_HASH, email_confirmed_at=datetime(2026, 1, 1)
    )
    user.role_rows.append(UserRole(role=Role.LEARNER))
    db.session.add(user)
    db.session.commit()
    return user


def test_my_attendance_shows_my_sessions_marks_and_rate_only(client, world):
    run, people, _trainer, sessions = world
    me = account_for(people["djordje"])
    login(client, me)
    response = client.get("/my-attendance")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Digital public services" in page
    assert "You attended 1 of 3 sessions: 33%." in page
    assert "Below the 80% needed" in page
    for label in ("Present", "Absent", "Excused"):
        assert label in page
    for other in ("Çeku", "Berisha", "Žagar", "Ademi"):
        assert other not in page  # nobody else's attendance
    assert page.count("<tr>") == 1 + 3  # header and the three sessions held


def test_my_attendance_does_not_count_sessions_before_i_enrolled(client, world):
    _run, people, _trainer, _sessions = world
    login(client, account_for(people["ademi"]))
    page = client.get("/my-attendance").get_data(as_text=True)
    assert "You attended 1 of 1 sessions: 100%." in page
    assert page.count("Before you enrolled (not counted)") == 2
    assert "On track" in page


def test_my_attendance_queries_do_not_grow_with_courses(app):
    counts = []
    for runs in (1, 4):
        person = create_person()
        for _ in range(runs):
            run, _people, _trainer = paper_run([])
            enrol(run=run, person=person, by=None, now=utcnow() - timedelta(days=30),
                  source=EnrollmentSource.MANAGER)  # fmt: skip
            for days in (3, 2, 1):
                put(add_session(run, starts_at=past(days)), person, P)
        db.session.commit()
        client = app.test_client()
        login(client, account_for(person))
        with count_queries() as counter:
            assert client.get("/my-attendance").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_my_attendance_needs_a_sign_in(client):
    response = client.get("/my-attendance")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]
