"""Import of paper marks: both layouts, every spelling, problems per row, preview then commit."""

import io
import re
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from flask_babel import to_user_timezone

from app.attendance import marks_import, services
from app.attendance.marks_import import Outcome, apply_marks, preview_marks, status_from_cell
from app.attendance.models import Attendance, AttendanceMark, AttendanceStatus, Channel
from app.auth.roles import Role
from app.enrollment.models import EnrollmentSource
from app.enrollment.services import enrol
from app.errors import DomainError
from app.extensions import db
from app.people.importer import ImportFileError
from app.timeutil import utcnow
from tests.attendance.helpers import add_session
from tests.attendance.test_paper import paper_run, past
from tests.conftest import create_person, create_programme, create_user, login

P, L, E, A = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.ABSENT,
)
TOKEN = "t" * 43


def day(session, with_time=False) -> str:
    local = to_user_timezone(session.starts_at)
    return local.strftime("%d.%m.%Y %H:%M" if with_time else "%d.%m.%Y")


def iso(session) -> str:
    return to_user_timezone(session.starts_at).strftime("%Y-%m-%d")


def hhmm(session) -> str:
    return to_user_timezone(session.starts_at).strftime("%H:%M")


def csv_bytes(*lines: str, encoding="utf-8-sig") -> bytes:
    return "\r\n".join(lines).encode(encoding)


def preview(run, data: bytes, filename="marks.csv"):
    return preview_marks(data=data, filename=filename, run=run, now=utcnow())


def mark_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(AttendanceMark.id)))


def standing(session, person):
    return db.session.scalar(
        sa.select(Attendance).where(
            Attendance.session_id == session.id, Attendance.person_id == person.id
        )
    )


@pytest.fixture
def world():
    run, people, trainer = paper_run()
    first = add_session(run, starts_at=past(14))
    second = add_session(run, starts_at=past(7))
    return run, people, trainer, first, second


# --- Values --------------------------------------------------------------------------------

SPELLINGS = {
    P: ["present", "Present", "P", "p", "prezent", "i pranishëm", "I PRANISHEM", "prisutan",
        "Prisutna", "X", "x", "✓", "✔", "присутан"],
    L: ["late", "L", "vonesë", "vonese", "kasni", "Kasni", "касни"],
    E: ["excused", "E", "arsyetuar", "i arsyetuar", "opravdano", "Opravdano", "оправдано"],
    A: ["absent", "A", "mungon", "Mungon", "odsutan", "одсутан"],
}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "status"), [(v, s) for s, values in SPELLINGS.items() for v in values]
)
def test_every_spelling_of_a_mark_is_read(value, status):
    assert status_from_cell(value) == status
    assert status_from_cell(f"  {value} ") == status


@pytest.mark.parametrize("value", ["", "  ", "-", "—"])
def test_an_empty_cell_has_no_mark(value):
    assert status_from_cell(value) is None


@pytest.mark.parametrize("value", ["maybe", "2", "presen", "PL"])
def test_an_unknown_mark_is_an_error(value):
    with pytest.raises(ValueError):
        status_from_cell(value)


# --- Long layout ---------------------------------------------------------------------------


def test_long_layout_preview_saves_nothing_and_apply_records_every_row(world):
    run, people, trainer, first, second = world
    cekus, djordje, berisha = people[0], people[1], people[2]
    data = csv_bytes(
        "email;name;date;status",
        f"{cekus.email.upper()};;{day(first)};prezent",
        f";Đorđević Đorđe;{iso(first)};vonesë",
        f";DJORDJEVIC DJORDJE;{day(second)};opravdano",  # no diacritics, "dj" for "đ"
        f";Berisha, Shpëtim;{day(first)};",  # empty: absent
        f";Çeku Arbëresha;{day(second)};mungon",
    )
    result = preview(run, data)
    assert result.layout == "long"
    assert [row.problems for row in result.rows] == [[]] * 5
    assert [(row.person_id, [m.status for m in row.marks]) for row in result.rows] == [
        (cekus.id, [P]),
        (djordje.id, [L]),
        (djordje.id, [E]),
        (berisha.id, [A]),
        (cekus.id, [A]),
    ]
    assert result.write_count == 5
    assert mark_count() == 0  # the preview only reads

    outcome = apply_marks(preview=result, run=run, token=TOKEN, by=trainer, now=utcnow())
    db.session.commit()
    assert outcome.recorded == 5 and outcome.duplicates == 0
    saved = standing(first, djordje)
    assert saved.status == L and saved.channel == Channel.IMPORT
    assert saved.marked_at == first.ends_at  # paper marks are dated at the session's end
    assert saved.marked_by_id == trainer.id
    assert standing(first, berisha).status == A
    assert standing(second, cekus).status == A


def test_long_layout_reads_first_and_last_name_columns_and_albanian_headers(world):
    run, people, _trainer, first, _second = world
    data = csv_bytes(
        "Emri;Mbiemri;Data;Statusi",
        f"Šejla;Žagar;{day(first)};i pranishëm",
    )
    result = preview(run, data)
    assert result.rows[0].person_id == people[3].id
    assert result.rows[0].marks[0].status == P


def test_problems_are_listed_per_row_and_those_rows_skipped(world):
    run, people, trainer, first, second = world
    twins = [create_person(first_name="Arta", last_name="Gashi") for _ in range(2)]
    for twin in twins:
        enrol(run=run, person=twin, by=None, now=utcnow() - timedelta(days=60),
              source=EnrollmentSource.MANAGER)  # fmt: skip
    future = add_session(run, starts_at=past(-5))
    cancelled = add_session(run, starts_at=past(3))
    services.cancel_session(session=cancelled, message="Anuluar")
    same_day = add_session(run, starts_at=past(14, hour=13))  # a second session that day
    outsider = create_person(first_name="Besnik", last_name="Jashari")
    db.session.commit()
    data = csv_bytes(
        "email;name;date;time;status",
        f";Berisha Shpëtim;{day(second)};;P",  # 2: fine
        f";Nobody Known;{day(second)};;P",  # 3: unknown person
        f"ghost@example.org;;{day(second)};;P",  # 4: unknown e-mail, no name
        f";Besnik Jashari;{day(second)};;P",  # 5: a person who is not enrolled
        f";Arta Gashi;{day(second)};;P",  # 6: two learners with that name
        ";Žagar Šejla;01.01.2025;;P",  # 7: no session that day
        f";Žagar Šejla;{day(second)};;maybe",  # 8: not a mark
        f";Žagar Šejla;{day(future)};;P",  # 9: not held yet
        f";Žagar Šejla;{day(cancelled)};;P",  # 10: cancelled
        ";Žagar Šejla;32.13.2026;;P",  # 11: not a date
        ";Žagar Šejla;;;P",  # 12: no date
        f";Berisha Shpëtim;{day(second)};;A",  # 13: row 2 again
        f";Žagar Šejla;{day(first)};;P",  # 14: two sessions that day
        f";Žagar Šejla;{day(first)};25:99;P",  # 15: not a time
        ";;;;P",  # 16: nobody
    )
    result = preview(run, data)
    problems = {row.number: " ".join(row.problems) for row in result.rows}
    assert problems[2] == ""
    assert "Nobody Known is not enrolled in this course" in problems[3]
    assert "No learner of this course has the e-mail ghost@example.org" in problems[4]
    assert "Besnik Jashari is not enrolled" in problems[5] and outsider.id
    assert "Several learners of this course are called Arta Gashi" in problems[6]
    assert "no session on 01.01.2025" in problems[7]
    assert "“maybe” is not a mark" in problems[8]
    assert "has not taken place yet" in problems[9]
    assert "was cancelled" in problems[10]
    assert "“32.13.2026” is not a date" in problems[11]
    assert "The session date is missing" in problems[12]
    assert "Row 2 already gives this person's mark" in problems[13]
    assert "several sessions on" in problems[14] and hhmm(same_day) in problems[14]
    assert "“25:99” is not a time" in problems[15]
    assert "The row names nobody" in problems[16]
    assert len(result.valid_rows) == 1 and len(result.error_rows) == 14

    outcome = apply_marks(preview=result, run=run, token=TOKEN, by=trainer, now=utcnow())
    assert outcome.recorded == 1 and len(outcome.skipped) == 14
    assert mark_count() == 1


def test_two_sessions_on_a_day_are_told_apart_by_the_start_time(world):
    run, people, trainer, first, _second = world
    afternoon = add_session(run, starts_at=past(14, hour=13))
    long = csv_bytes(
        "name;date;time;status",
        f"Çeku Arbëresha;{day(first)};{hhmm(first)};P",
        f"Çeku Arbëresha;{iso(afternoon)};{hhmm(afternoon)};L",
    )
    result = preview(run, long)
    assert [[m.session_id for m in row.marks] for row in result.rows] == [
        [first.id],
        [afternoon.id],
    ]
    wide = csv_bytes(
        f"name;{day(first, True)};{day(afternoon, True)}",
        "Çeku Arbëresha;P;L",
    )
    result = preview(run, wide)
    assert result.layout == "wide"
    assert [(m.session_id, m.status) for m in result.rows[0].marks] == [
        (first.id, P),
        (afternoon.id, L),
    ]


# --- Wide layout ---------------------------------------------------------------------------


def test_wide_layout_reads_one_column_per_session(world):
    run, people, trainer, first, second = world
    data = csv_bytes(
        f"No.;Last name;First name;E-mail;Municipality;{day(first)};{day(second)};Rate %",
        "1;Berisha;Shpëtim;;Prishtinë;P;L;50",
        f"2;Çeku;Arbëresha;{people[0].email};Gjakovë;✓;E;100",
        "3;Çollaku;Ćamil;;Deçan;X;A;",
        "4;Đorđević;Đorđe;;Graçanicë;prisutan;kasni;",
        "5;Žagar;Šejla;;Shtërpcë;odsutan;;",
    )
    result = preview(run, data)
    assert result.layout == "wide"
    assert "Rate %" in result.ignored_columns and "Municipality" in result.ignored_columns
    marks = {row.person_name: [m.status for m in row.marks] for row in result.rows}
    assert marks == {
        "Shpëtim Berisha": [P, L],
        "Arbëresha Çeku": [P, E],
        "Ćamil Çollaku": [P, A],
        "Đorđe Đorđević": [P, L],
        "Šejla Žagar": [A, A],  # the empty cell: absent, nothing was recorded
    }
    assert [m.from_blank for m in result.rows[4].marks] == [False, True]
    outcome = apply_marks(preview=result, run=run, token=TOKEN, by=trainer, now=utcnow())
    assert outcome.recorded == 10


def test_wide_layout_problems_are_per_row(world):
    run, people, _trainer, first, second = world
    data = csv_bytes(
        f"name;{day(first)};{day(second)};01.02.2025",
        "Berisha Shpëtim;P;maybe;",
        "Çeku Arbëresha;P;P;P",  # a mark under a date without a session
        "Çeku Arbëresha;A;A;",  # the same person twice
        "Çollaku Ćamil;P;P;",  # fine: the unknown date column is empty here
    )
    result = preview(run, data)
    problems = [" ".join(row.problems) for row in result.rows]
    assert "“maybe” under" in problems[0] and day(second) in problems[0]
    assert "no session on 01.02.2025" in problems[1]
    assert "Row 3 names the same person" in problems[2]
    assert problems[3] == ""


def test_an_empty_cell_never_replaces_a_mark_nor_counts_before_enrolment(world):
    run, people, trainer, first, second = world
    late_comer = create_person(first_name="Blerta", last_name="Ademi")
    enrol(run=run, person=late_comer, by=None, now=utcnow() - timedelta(days=10),
          source=EnrollmentSource.MANAGER)  # fmt: skip
    upcoming = add_session(run, starts_at=past(-4))
    services.record_mark(session=first, person_id=people[0].id, status=P, remark=None,
                         marked_at=first.starts_at, by=trainer, channel=Channel.QR)  # fmt: skip
    db.session.commit()
    data = csv_bytes(
        f"name;{day(first)};{day(second)};{day(upcoming)}",
        "Çeku Arbëresha;;;",
        "Ademi Blerta;;;",
    )
    result = preview(run, data)
    cekus, blerta = result.rows
    # The QR check-in stands; the second session had no mark: absent; upcoming: nothing.
    assert [(m.session_id, m.status) for m in cekus.marks] == [(second.id, A)]
    # Enrolled after the first session: only the second counts.
    assert [(m.session_id, m.status) for m in blerta.marks] == [(second.id, A)]


def test_paper_replaces_marks_from_the_session_but_not_later_corrections(world):
    run, people, trainer, first, _second = world
    during, after, same = people[0], people[1], people[2]

    def mark(person, status, at):
        services.record_mark(session=first, person_id=person.id, status=status, remark=None,
                             marked_at=at, by=trainer, channel=Channel.ROLL_CALL)  # fmt: skip

    mark(during, P, first.starts_at + timedelta(minutes=5))
    mark(after, L, first.ends_at + timedelta(days=1))  # corrected the next day
    mark(same, P, first.starts_at + timedelta(minutes=5))
    db.session.commit()
    before = mark_count()
    data = csv_bytes(
        f"name;{day(first)}",
        "Çeku Arbëresha;A",
        "Đorđević Đorđe;A",
        "Berisha Shpëtim;P",
    )
    result = preview(run, data)
    assert [row.marks[0].outcome for row in result.rows] == [
        Outcome.CHANGE,
        Outcome.LATER,
        Outcome.SAME,
    ]
    outcome = apply_marks(preview=result, run=run, token=TOKEN, by=trainer, now=utcnow())
    db.session.commit()
    assert (outcome.recorded, outcome.overruled, outcome.unchanged) == (1, 1, 1)
    assert standing(first, during).status == A
    assert standing(first, after).status == L  # the later correction wins
    assert mark_count() == before + 2  # the overruled paper mark is kept in the history
    kept = db.session.scalar(
        sa.select(AttendanceMark).where(
            AttendanceMark.person_id == after.id, AttendanceMark.channel == Channel.IMPORT
        )
    )
    assert kept.applied is False


def test_confirming_the_same_upload_twice_records_it_once(world):
    run, people, trainer, first, second = world
    data = csv_bytes(f"name;{day(first)};{day(second)}", "Çeku Arbëresha;P;L")
    result = preview(run, data)
    first_time = apply_marks(preview=result, run=run, token=TOKEN, by=trainer, now=utcnow())
    db.session.commit()
    again = apply_marks(preview=result, run=run, token=TOKEN, by=trainer, now=utcnow())
    db.session.commit()
    assert first_time.recorded == 2
    assert again.duplicates == 2 and again.recorded == 0
    assert mark_count() == 2
    assert marks_import.import_client_id(TOKEN, 2, first.id) == marks_import.import_client_id(
        TOKEN, 2, first.id
    )
    assert marks_import.import_client_id(TOKEN, 2, first.id) != marks_import.import_client_id(
        "u" * 43, 2, first.id
    )


def test_apply_only_flushes_so_the_caller_commits_everything_at_once(world):
    run, _people, trainer, first, second = world
    data = csv_bytes(f"name;{day(first)};{day(second)}", "Çeku Arbëresha;P;L", "Žagar Šejla;P;P")
    apply_marks(preview=preview(run, data), run=run, token=TOKEN, by=trainer, now=utcnow())
    db.session.rollback()
    assert mark_count() == 0


# --- Reading files -------------------------------------------------------------------------


def test_a_windows_1250_csv_with_commas_is_read(world):
    run, people, _trainer, first, _second = world
    data = csv_bytes(f"name,{day(first)}", "Žagar Šejla,P", "Đorđević Đorđe,L", encoding="cp1250")
    result = preview(run, data)
    assert [row.person_id for row in result.valid_rows] == [people[3].id, people[1].id]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"status;date\r\nP;01.01.2026", "no column for the e-mail or the name"),
        (b"name;remark\r\nX;Y", "either a date and a status column"),
        (b"name;date;status\r\n", "no rows of marks"),
        (b"\x00\x01\x02binary" * 50, "not a CSV text file"),
    ],
)
def test_an_unusable_file_is_refused_as_a_whole(world, content, message):
    run = world[0]
    with pytest.raises(ImportFileError, match=message):
        preview(run, content)


# --- Pages ---------------------------------------------------------------------------------


def token_of(page: str) -> str:
    return re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)


def upload(client, run, data: bytes, name="marks.csv"):
    return client.post(
        f"/runs/{run.id}/attendance/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_import_preview_then_confirm(client, world):
    run, people, trainer, first, second = world
    login(client, trainer)
    assert client.get(f"/runs/{run.id}/attendance/import").status_code == 200
    data = csv_bytes(
        f"name;{day(first)};{day(second)}",
        "Çeku Arbëresha;P;L",
        "Nobody Known;P;P",
    )
    response = upload(client, run, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nobody Known is not enrolled in this course" in page
    assert "Record 2 marks" in page
    assert mark_count() == 0
    token = token_of(page)

    result = client.post(f"/runs/{run.id}/attendance/import/confirm", data={"token": token})
    assert result.status_code == 200
    assert "marks recorded" in result.get_data(as_text=True)
    assert mark_count() == 2
    db.session.expire_all()
    assert standing(second, people[0]).status == L

    again = client.post(f"/runs/{run.id}/attendance/import/confirm", data={"token": token})
    assert again.status_code == 302 and "/attendance/import" in again.headers["Location"]
    assert mark_count() == 2


def test_import_confirm_commits_nothing_when_a_mark_fails(client, world, monkeypatch):
    run, _people, trainer, first, second = world
    login(client, trainer)
    page = upload(
        client,
        run,
        csv_bytes(
            f"name;{day(first)};{day(second)}", "Çeku Arbëresha;P;L", "Žagar Šejla;P;P"
        ),  # fmt: skip
    ).get_data(as_text=True)
    real = services.record_mark
    calls = []

    def failing(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise DomainError("This person is not enrolled in the course.")
        return real(**kwargs)

    monkeypatch.setattr(services, "record_mark", failing)
    response = client.post(
        f"/runs/{run.id}/attendance/import/confirm", data={"token": token_of(page)}
    )
    assert response.status_code == 302
    assert len(calls) == 3
    db.session.rollback()
    assert mark_count() == 0


def test_import_cancel_and_unknown_tokens_save_nothing(client, world):
    run, _people, trainer, first, _second = world
    login(client, trainer)
    page = upload(client, run, csv_bytes(f"name;{day(first)}", "Çeku Arbëresha;P")).get_data(
        as_text=True
    )
    cancel = client.post(
        f"/runs/{run.id}/attendance/import/confirm", data={"token": token_of(page), "cancel": "1"}
    )
    assert cancel.status_code == 302
    for token in ("", "../../etc/passwd", "x" * 43, token_of(page)):
        response = client.post(f"/runs/{run.id}/attendance/import/confirm", data={"token": token})
        assert response.status_code == 302
    assert mark_count() == 0


def test_import_reads_a_filled_in_register_export(client, world):
    run, people, trainer, first, second = world
    login(client, trainer)
    exported = client.get(f"/runs/{run.id}/register.xlsx").data
    workbook = openpyxl.load_workbook(io.BytesIO(exported))
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    column = headers.index(day(second)) + 1
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=column, value="P")
    out = io.BytesIO()
    workbook.save(out)
    response = upload(client, run, out.getvalue(), name="register.xlsx")
    page = response.get_data(as_text=True)
    assert "Record 10 marks" in page  # five present in the second session, five absent in the first
    client.post(f"/runs/{run.id}/attendance/import/confirm", data={"token": token_of(page)})
    db.session.expire_all()
    assert {standing(second, p).status for p in people} == {P}
    assert {standing(first, p).status for p in people} == {A}


def test_a_bad_file_is_shown_next_to_the_field(client, world):
    run, _people, trainer, _first, _second = world
    login(client, trainer)
    response = upload(client, run, b"name;remark\r\nX;Y")
    assert response.status_code == 200
    assert "either a date and a status column" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "status"),
    [("trainer", 200), ("manager", 200), ("other_trainer", 403), ("other_manager", 403),
     ("learner", 403)],
)  # fmt: skip
def test_import_permissions_follow_the_programme(client, world, who, status):
    run, _people, trainer, first, _second = world
    users = {
        "trainer": trainer,
        "manager": create_user(Role.MANAGER, programme=run.programme),
        "other_trainer": create_user(Role.TRAINER, programme=run.programme),
        "other_manager": create_user(Role.MANAGER, programme=create_programme()),
        "learner": create_user(Role.LEARNER),
    }
    login(client, users[who])
    assert client.get(f"/runs/{run.id}/attendance/import").status_code == status
    response = upload(client, run, csv_bytes(f"name;{day(first)}", "Çeku Arbëresha;P"))
    assert response.status_code == status
    confirm = client.post(f"/runs/{run.id}/attendance/import/confirm", data={"token": TOKEN})
    assert confirm.status_code == (302 if status == 200 else 403)
    assert mark_count() == 0
    assert client.get(f"/runs/{run.id + 1000}/attendance/import").status_code in (403, 404)
