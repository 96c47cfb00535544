"""Uploads are judged by their bytes (app/uploads.py) and limited in size, on every form that
takes a file: whatever the name and Content-Type say, the wrong kind of file is refused with a
message, a file over the limit gets the 413 page, and the right file goes through."""

import io
import zipfile
from dataclasses import dataclass

import openpyxl
import pytest
import sqlalchemy as sa

from app import uploads
from app.auth.roles import Role
from app.extensions import db
from tests.attendance.helpers import add_session
from tests.attendance.test_marks_import import csv_bytes, day
from tests.attendance.test_paper import paper_run, past
from tests.conftest import create_course, create_programme, create_user, login

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(40)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(40)
EXE = b"MZ\x90\x00" + bytes(60)


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


# --- The checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (PNG, "This file is a PNG image. Upload a CSV file or an Excel workbook"),
        (PDF, "This file is a PDF document."),
        (JPEG, "This file is a JPEG image."),
        (EXE, "This file is a program."),
        (zip_bytes({"readme.txt": b"hi"}), "not an Excel workbook"),
        # The workbook's parts without the content types that make it one.
        (zip_bytes({"xl/workbook.xml": b"<workbook/>"}), "not an Excel workbook"),
        (
            zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}),
            "not an Excel workbook",
        ),
        (
            zip_bytes(
                {
                    "[Content_Types].xml": uploads.WORKBOOK_TYPES[0],
                    "xl/workbook.xml": b"<not a workbook",
                }
            ),
            "could not be opened",
        ),
        (b"\x00\x01\x02binary" * 50, "not a CSV text file"),
        (b"", "The file is empty."),
        (b"a;b\n" * (uploads.MAX_BYTES // 4 + 1), "larger than 5 MB"),
    ],
)
def test_table_kind_refuses_what_is_no_table(data, message):
    with pytest.raises(uploads.UploadError) as error:
        uploads.table_kind(data)
    assert message in error.value.message


def test_table_kind_knows_csv_in_every_encoding_and_real_workbooks():
    assert uploads.table_kind("ime;mbiemri\nArbëresha;Çeku\n".encode("utf-8-sig")) == "csv"
    assert uploads.table_kind("ime;prezime\nČedomir;Đukić\n".encode("cp1250")) == "csv"
    assert uploads.table_kind("a,b\n".encode("utf-16")) == "csv"
    assert uploads.table_kind(xlsx_bytes([["first_name", "last_name"]])) == "xlsx"


def test_utf8_text_check_for_gift_files():
    assert uploads.check_text("::Q:: Çka? {T}".encode(), utf8_only=True) == "::Q:: Çka? {T}"
    with pytest.raises(uploads.UploadError, match="not UTF-8"):
        uploads.check_text("Čka".encode("cp1250"), utf8_only=True)
    with pytest.raises(uploads.UploadError, match="PNG image, not a text file"):
        uploads.check_text(PNG, utf8_only=True)
    with pytest.raises(uploads.UploadError, match="archive, not a text file"):
        uploads.check_text(xlsx_bytes([["x"]]), utf8_only=True)


# --- Every form that takes a file ----------------------------------------------------------


@dataclass
class UploadForm:
    url: str
    user: object
    fields: dict  # the form's other fields
    good: bytes  # a file that goes through
    good_name: str
    passed: str  # what the page says when it went through (or a redirect: None)


def _people_import():
    programme = create_programme()
    manager = create_user(Role.MANAGER, programme=programme)
    return UploadForm(
        url=f"/programmes/{programme.id}/people/import",
        user=manager,
        fields={},
        good=xlsx_bytes([["first_name", "last_name"], ["Arbëresha", "Çeku"]]),
        good_name="participants.xlsx",
        passed="Arbëresha",
    )


def _marks_import():
    run, _people, trainer = paper_run()
    first = add_session(run, starts_at=past(14))
    return UploadForm(
        url=f"/runs/{run.id}/attendance/import",
        user=trainer,
        fields={},
        good=csv_bytes(f"name;{day(first)}", "Çeku Arbëresha;P"),
        good_name="marks.csv",
        passed="Record 1 mark",
    )


def _observatory_import():
    return UploadForm(
        url="/observatory/indicators/import",
        user=create_user(Role.MANAGER),
        fields={},
        good="municipality;year;transparency_score\nGjakovë;2025;62\n".encode("utf-8-sig"),
        good_name="indicators.csv",
        passed="Gjakov",
    )


def _gift_import():
    course = create_course()
    return UploadForm(
        url="/quiz-banks/import",
        user=create_user(Role.MANAGER),
        fields={
            "course_id": course.id,
            "bank_id": "",
            "title": "Bank",
            "language": "sq",
            "competence": "4.2",
            "level": "3",
        },
        good="::Ë:: Çfarë?{=Po ~Jo}".encode(),
        good_name="sq.gift",
        passed=None,
    )


FORMS = {
    "people": _people_import,
    "marks": _marks_import,
    "observatory": _observatory_import,
    "gift": _gift_import,
}


def _rows() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def _post(client, form: UploadForm, content: bytes, name: str, mime="text/csv", **headers):
    data = {**form.fields, "file": (io.BytesIO(content), name, mime)}
    return client.post(form.url, data=data, content_type="multipart/form-data", headers=headers)


@pytest.mark.parametrize("kind", FORMS)
@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (PNG, "list.csv", "This file is a PNG image"),
        (PDF, "bank.txt", "This file is a PDF document"),
        (EXE, "participants.gift", "This file is a program"),
    ],
)
def test_a_renamed_file_of_the_wrong_kind_is_refused(client, kind, content, name, message):
    form = FORMS[kind]()
    login(client, form.user)
    before = _rows()
    response = _post(client, form, content, name, mime="text/csv")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _rows() == before


@pytest.mark.parametrize("kind", FORMS)
def test_an_upload_over_the_limit_gets_the_413_page(app, client, kind):
    form = FORMS[kind]()
    login(client, form.user)
    too_big = b"a;b\n" * (app.config["MAX_CONTENT_LENGTH"] // 4 + 1)
    response = _post(client, form, too_big, form.good_name)
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "File too large" in page and "The upload is larger than the limit of 5 MB." in page


def test_the_413_page_speaks_the_users_language(app, client):
    form = _observatory_import()
    form.user.locale = "sq"
    db.session.commit()
    login(client, form.user)
    too_big = b"a;b\n" * (app.config["MAX_CONTENT_LENGTH"] // 4 + 1)
    response = _post(client, form, too_big, form.good_name)
    assert response.status_code == 413
    assert "Skedari i ngarkuar e tejkalon kufirin prej 5 MB." in response.get_data(as_text=True)


@pytest.mark.parametrize("kind", FORMS)
def test_the_right_file_passes_whatever_its_content_type(client, kind):
    form = FORMS[kind]()
    login(client, form.user)
    response = _post(client, form, form.good, form.good_name, mime="application/octet-stream")
    if form.passed is None:
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        assert form.passed in response.get_data(as_text=True)
