"""The participant import, called directly: parsing, checking, matching and saving."""

import codecs
import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.people import importer
from app.people.importer import ImportFileError, RowStatus, preview_import
from app.people.models import Institution, InstitutionType, Person, Sex, TargetGroup
from app.programmes.models import ProgrammeParticipant
from tests.conftest import create_person, create_programme, municipality

TODAY = date(2026, 6, 1)


def csv_bytes(lines: list[str], encoding="utf-8", bom=False) -> bytes:
    data = "\r\n".join(lines).encode(encoding)
    return codecs.BOM_UTF8 + data if bom else data


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def preview(data: bytes, filename="people.csv", programme_id=None):
    programme_id = programme_id or create_programme().id
    return preview_import(data=data, filename=filename, programme_id=programme_id, today=TODAY)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_preview_reads_semicolon_csv_with_bom_and_albanian_headers():
    data = csv_bytes(
        [
            "Emri;Mbiemri;E-mail;Gjinia;Viti i lindjes;Komuna;Institucioni;Pozita",
            "Arbëresha;Çollaku;arberesha@example.org;Femër;1988;Gjakovë;Komuna e Gjakovës;Zyrtare",
        ],
        bom=True,
    )
    result = preview(data)
    assert result.kind == "csv"
    [row] = result.rows
    assert row.problems == []
    assert row.status == RowStatus.NEW
    assert row.number == 2
    assert row.data.first_name == "Arbëresha"
    assert row.data.last_name == "Çollaku"
    assert row.data.sex == Sex.FEMALE
    assert row.data.birth_year == 1988
    assert row.data.municipality_id == municipality("gjakove").id
    assert row.data.position == "Zyrtare"


def test_preview_reads_comma_csv_without_bom_and_english_headers():
    data = csv_bytes(
        [
            "first_name,last_name,email,sex,birth_year,municipality,target_group",
            'Dren,"Berisha, Jr",DREN@Example.org,M,1995,Prishtina,student',
        ],
    )
    [row] = preview(data).rows
    assert row.problems == []
    assert row.data.last_name == "Berisha, Jr"
    assert row.data.email == "dren@example.org"
    assert row.data.sex == Sex.MALE
    assert row.data.target_group == TargetGroup.STUDENT
    assert row.data.municipality_id == municipality("prishtine").id


def test_preview_reads_windows_1250_with_serbian_headers():
    data = csv_bytes(
        [
            "Ime;Prezime;Email adresa;Pol;Godina rođenja;Opština;Institucija",
            "Dragana;Đorđević;dragana@example.org;Ž;1979;Gračanica;Opština Gračanica",
        ],
        encoding="cp1250",
    )
    [row] = preview(data).rows
    assert row.problems == []
    assert row.data.last_name == "Đorđević"
    assert row.data.sex == Sex.FEMALE
    assert row.data.birth_year == 1979
    assert row.data.municipality_id == municipality("gracanice").id
    assert row.data.institution == "Opština Gračanica"


def test_decode_text_tells_windows_1250_from_1252():
    serbian = "Čačak, Đorđević, Šćekić"
    assert importer.decode_text(serbian.encode("cp1250")) == serbian
    assert importer.decode_text("Gjakovë, Çeku".encode("cp1252")) == "Gjakovë, Çeku"
    assert importer.decode_text("Gjakovë".encode()) == "Gjakovë"


def test_preview_reads_xlsx_made_with_openpyxl():
    data = xlsx_bytes(
        [
            ["First name", "Last name", "E-mail", "Sex", "Date of birth", "Municipality", "Phone"],
            [
                "Blerta",
                "Hoxha",
                "blerta@example.org",
                "F",
                datetime(1991, 4, 12),
                "Drenas",
                38344123456,
            ],
            [None, None, None, None, None, None, None],
            ["Miloš", "Petrović", "milos@example.org", "muški", 1985, "Zvečan", None],
        ]
    )
    result = preview(data, filename="people.xlsx")
    assert result.kind == "xlsx"
    first, second = result.rows
    assert first.problems == [] and second.problems == []
    assert first.data.birth_year == 1991
    assert first.data.phone == "38344123456"
    assert first.data.municipality_id == municipality("drenas").id
    assert second.number == 4  # the empty row keeps the spreadsheet's numbering
    assert second.data.sex == Sex.MALE
    assert second.data.birth_year == 1985


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("Gllogoc", "drenas"),
        ("Glogovac", "drenas"),
        ("Dardanë", "kamenice"),
        ("dardane", "kamenice"),
        ("Đakovica", "gjakove"),
        ("GJAKOVE", "gjakove"),
        ("Uroševac", "ferizaj"),
        ("Pristina", "prishtine"),
        ("Mitrovicë e Veriut", "mitrovice-veriut"),
    ],
)
def test_preview_matches_municipality_variants(spelling, code):
    data = csv_bytes(["first_name;last_name;municipality", f"Ana;Gashi;{spelling}"])
    [row] = preview(data).rows
    assert row.problems == []
    assert row.data.municipality_id == municipality(code).id


@pytest.mark.parametrize(
    ("value", "sex"),
    [
        ("F", Sex.FEMALE),
        ("female", Sex.FEMALE),
        ("femër", Sex.FEMALE),
        ("Ženski", Sex.FEMALE),
        ("ž", Sex.FEMALE),
        ("M", Sex.MALE),
        ("Mashkull", Sex.MALE),
        ("muški", Sex.MALE),
        ("not disclosed", Sex.UNDISCLOSED),
    ],
)
def test_preview_reads_sex_values(value, sex):
    [row] = preview(csv_bytes(["first_name;last_name;sex", f"Ana;Gashi;{value}"])).rows
    assert row.problems == []
    assert row.data.sex == sex


@pytest.mark.parametrize(
    ("value", "year"),
    [
        ("1990", 1990),
        ("12.03.1990", 1990),
        ("12.03.1990.", 1990),
        ("1990-03-12", 1990),
        ("31/12/1990", 1990),
        ("12/31/1990", 1990),
    ],
)
def test_preview_reduces_dates_of_birth_to_the_year(value, year):
    [row] = preview(csv_bytes(["first_name;last_name;birth_year", f"Ana;Gashi;{value}"])).rows
    assert row.problems == []
    assert row.data.birth_year == year


def test_preview_lists_every_problem_of_a_row():
    data = csv_bytes(
        [
            "first_name;last_name;email;sex;birth_year;municipality;target_group;institution_type",
            ";Gashi;not-an-email;Q;1900;Atlantis;astronaut;castle",
            "Ana;Gashi;ana@example.org;F;31.02.1990;Prizren;student;university",
            "Ana;Krasniqi;;F;2020;Prizren;student;university",
        ]
    )
    first, second, third = preview(data).rows
    text = " ".join(first.problems)
    assert "first name is missing" in text
    assert "not-an-email" in text
    assert "Unknown sex" in text
    assert "1920" in text  # the allowed birth years are named
    assert "Unknown municipality “Atlantis”" in text
    assert "Unknown target group" in text
    assert "Unknown institution type" in text
    assert first.status == RowStatus.ERROR
    assert second.problems == ["“31.02.1990” is not a real date."]
    assert third.problems == ["Enter a birth year between 1920 and 2012."]


def test_preview_reads_placeholders_as_empty():
    data = csv_bytes(
        ["first_name;last_name;email;sex;birth_year;municipality", "Ana;Gashi;-;?;—;/"]
    )
    [row] = preview(data).rows
    assert row.problems == []
    assert (row.data.email, row.data.sex, row.data.birth_year) == (None, None, None)


def test_preview_flags_a_duplicate_email_within_the_file():
    data = csv_bytes(
        [
            "first_name;last_name;email",
            "Ana;Gashi;ana@example.org",
            "Besa;Morina;ANA@example.org",
            "Ana;Gashi;",
        ]
    )
    first, second, third = preview(data).rows
    assert first.problems == []
    assert second.problems == ["The e-mail ana@example.org is also on row 2."]
    assert third.problems == ["Row 2 names the same person."]


def test_preview_matches_existing_person_by_email_and_fills_only_empty_fields():
    person = create_person(
        first_name="Vjosa",
        last_name="Rama",
        email="vjosa@example.org",
        phone=None,
        position="Zyrtare",
        municipality=municipality("peje"),
    )
    db.session.commit()
    data = csv_bytes(
        [
            "first_name;last_name;email;phone;position;municipality",
            "Vjosa;Rama-Krasniqi;Vjosa@Example.org;+383 44 111 222;Drejtoreshë;Prizren",
        ]
    )
    [row] = preview(data).rows
    assert row.status == RowStatus.MATCH
    assert row.matched_person_id == person.id
    assert row.fill_fields == ["phone"]
    assert row.fills == ["Phone: +383 44 111 222"]


def test_preview_matches_by_name_and_municipality_despite_diacritics():
    person = create_person(
        first_name="Arbër",
        last_name="Đorđević",
        email=None,
        position=None,
        municipality=municipality("gjakove"),
    )
    db.session.commit()
    data = csv_bytes(
        [
            "first_name;last_name;municipality;position",
            "ARBER;Dordevic;Đakovica;Profesor",
        ]
    )
    [row] = preview(data).rows
    assert row.matched_person_id == person.id
    assert row.fill_fields == ["position"]


def test_preview_does_not_match_a_namesake_with_another_email():
    create_person(
        first_name="Ana",
        last_name="Gashi",
        email="ana.one@example.org",
        municipality=municipality("prizren"),
    )
    db.session.commit()
    data = csv_bytes(
        ["first_name;last_name;email;municipality", "Ana;Gashi;ana.two@example.org;Prizren"]
    )
    [row] = preview(data).rows
    assert row.status == RowStatus.NEW


def test_preview_does_not_match_by_name_in_another_municipality():
    create_person(
        first_name="Ana", last_name="Gashi", email=None, municipality=municipality("prizren")
    )
    db.session.commit()
    [row] = preview(csv_bytes(["first_name;last_name;municipality", "Ana;Gashi;Pejë"])).rows
    assert row.status == RowStatus.NEW


def test_preview_saves_nothing():
    people, institutions = count(Person), count(Institution)
    data = csv_bytes(
        [
            "first_name;last_name;email;municipality;institution",
            "Ana;Gashi;ana@example.org;Prizren;Komuna e Prizrenit",
        ]
    )
    result = preview(data)
    assert result.rows[0].new_institution
    assert not db.session.new and not db.session.dirty
    db.session.rollback()
    assert (count(Person), count(Institution)) == (people, institutions)
    assert count(ProgrammeParticipant) == 0


def test_apply_saves_valid_rows_in_the_callers_transaction():
    programme = create_programme()
    existing = create_person(
        first_name="Vjosa", last_name="Rama", email="vjosa@example.org", phone=None
    )
    db.session.commit()
    people_before = count(Person)
    data = csv_bytes(
        [
            "first_name;last_name;email;sex;birth_year;municipality;institution;target_group;phone",
            "Ana;Gashi;ana@example.org;F;1990;Prizren;Komuna e Prizrenit;municipal_official;",
            "Besa;Morina;besa@example.org;F;1992;Prizren;KOMUNA E PRIZRENIT;zyrtare;",
            "Vjosa;Rama;vjosa@example.org;;;;;;+383 44 000 000",
            "Bad;Row;bad-email;;;;;;",
        ]
    )
    result = preview(data, programme_id=programme.id)
    outcome = importer.apply_import(preview=result, programme_id=programme.id)
    assert (outcome.created, outcome.updated, outcome.added) == (2, 1, 3)
    assert [row.number for row in outcome.skipped] == [5]
    assert count(Person) == people_before + 2
    [institution] = db.session.scalars(sa.select(Institution)).all()
    assert institution.type == InstitutionType.MUNICIPALITY
    assert institution.municipality_id == municipality("prizren").id
    assert existing.phone == "+383 44 000 000"
    # Nothing is committed: the view commits once, so a rollback leaves no trace.
    db.session.rollback()
    assert count(Person) == people_before
    assert count(Institution) == 0
    assert count(ProgrammeParticipant) == 0


def test_apply_failure_halfway_leaves_nothing(monkeypatch):
    programme = create_programme()
    data = csv_bytes(["first_name;last_name", "Ana;Gashi", "Besa;Morina", "Drita;Hoxha"])
    result = preview(data, programme_id=programme.id)
    calls = []

    def failing_add(*, programme_id, person):
        calls.append(person)
        if len(calls) == 2:
            raise RuntimeError("database went away")

    monkeypatch.setattr(importer, "add_participant", failing_add)
    with pytest.raises(RuntimeError):
        importer.apply_import(preview=result, programme_id=programme.id)
    db.session.rollback()
    assert count(Person) == 0


def test_second_import_of_the_same_file_creates_no_duplicates():
    first_programme, second_programme = create_programme(), create_programme()
    data = csv_bytes(
        [
            "first_name;last_name;email;municipality",
            "Ana;Gashi;ana@example.org;Prizren",
            "Besa;Morina;;Prizren",
        ]
    )
    importer.apply_import(
        preview=preview(data, programme_id=first_programme.id), programme_id=first_programme.id
    )
    db.session.commit()
    again = preview(data, programme_id=second_programme.id)
    assert [row.status for row in again.rows] == [RowStatus.MATCH, RowStatus.MATCH]
    outcome = importer.apply_import(preview=again, programme_id=second_programme.id)
    db.session.commit()
    assert (outcome.created, outcome.added) == (0, 2)
    assert count(Person) == 2
    assert count(ProgrammeParticipant) == 4


def test_new_person_without_statistics_fields_needs_review():
    programme = create_programme()
    data = csv_bytes(
        [
            "first_name;last_name;sex;birth_year;municipality",
            "Ana;Gashi;F;1990;Prizren",
            "Besa;Morina;;;",
        ]
    )
    importer.apply_import(
        preview=preview(data, programme_id=programme.id), programme_id=programme.id
    )
    review = dict(db.session.execute(sa.select(Person.first_name, Person.needs_review)).all())
    assert review == {"Ana": False, "Besa": True}


def test_institution_found_by_name_and_municipality_or_created_with_its_type():
    programme = create_programme()
    known = Institution(
        name="Universiteti i Prishtinës",
        type=InstitutionType.UNIVERSITY,
        municipality=municipality("prishtine"),
    )
    db.session.add(known)
    db.session.commit()
    data = csv_bytes(
        [
            "first_name;last_name;municipality;institution;institution_type;target_group",
            "Ana;Gashi;Prishtinë;UNIVERSITETI I PRISHTINES;;student",
            "Besa;Morina;Ferizaj;Radio Ferizaj;media;",
        ]
    )
    result = preview(data, programme_id=programme.id)
    assert result.rows[0].institution_id == known.id
    assert result.rows[1].new_institution
    importer.apply_import(preview=result, programme_id=programme.id)
    radio = db.session.scalar(sa.select(Institution).where(Institution.name == "Radio Ferizaj"))
    assert radio.type == InstitutionType.MEDIA


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "people.csv", "empty"),
        (b"   \r\n", "people.csv", "empty"),
        (b"PK\x03\x04not really a zip", "people.xlsx", "could not be opened"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "people.xls", "old Excel"),
        (b"first_name,last_name\r\nAna,Gashi", "people.xlsx", "not an Excel workbook"),
        (b"first_name,last_name\r\nAna,Gashi", "people.pdf", "Upload a CSV"),
        (b"\x00\x01\x02\x03binary\x00\x00garbage" * 20, "people.csv", "not a CSV"),
        (b"first_name;last_name\r\n", "people.csv", "no rows"),
        (b"foo;bar\r\n1;2\r\n", "people.csv", "must name the columns"),
        (b"first_name;email\r\nAna;a@example.org\r\n", "people.csv", "Last name"),
    ],
)
def test_preview_refuses_unusable_files(data, filename, message):
    with pytest.raises(ImportFileError) as error:
        preview(data, filename=filename)
    assert message in error.value.message
    assert count(Person) == 0


def test_preview_refuses_a_zip_that_is_not_a_workbook():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ImportFileError, match="not an Excel workbook"):
        preview(out.getvalue(), filename="people.xlsx")


def test_preview_refuses_a_workbook_that_unpacks_too_large(monkeypatch):
    data = xlsx_bytes([["first_name", "last_name"], ["Ana", "Gashi"]])
    monkeypatch.setattr(importer, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(ImportFileError, match="too large once unpacked"):
        preview(data, filename="people.xlsx")


def test_preview_refuses_files_over_5_mb():
    data = b"first_name;last_name\r\n" + b"Ana;Gashi\r\n" * 500_000
    with pytest.raises(ImportFileError, match="5 MB"):
        preview(data)


def test_preview_refuses_more_than_5000_rows():
    lines = ["first_name;last_name"] + [f"Ana{n};Gashi" for n in range(importer.MAX_ROWS + 1)]
    with pytest.raises(ImportFileError, match="more than 5000 rows"):
        preview(csv_bytes(lines))


def test_preview_accepts_exactly_the_row_limit(monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    lines = ["first_name;last_name", "Ana;Gashi", "Besa;Morina", "Drita;Hoxha"]
    assert len(preview(csv_bytes(lines)).rows) == 3
    with pytest.raises(ImportFileError):
        preview(csv_bytes(lines + ["Era;Krasniqi"]))


def test_xlsx_row_limit_applies_too(monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 2)
    data = xlsx_bytes([["first_name", "last_name"], ["A", "B"], ["C", "D"], ["E", "F"]])
    with pytest.raises(ImportFileError, match="more than 2 rows"):
        preview(data, filename="people.xlsx")


def test_template_round_trips_through_the_import():
    data = importer.template_csv()
    assert data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    for letter in "ëçčćšžđ":
        assert letter in text.lower()
    [row] = preview(data).rows
    assert row.problems == []
    assert row.data.municipality_id == municipality("gjakove").id


def test_upload_tokens_are_random_and_checked(tmp_path):
    token = importer.store_upload(folder=tmp_path, data=b"a;b", kind="csv")
    assert importer.valid_token(token)
    assert importer.load_upload(folder=tmp_path, token=token) == (b"a;b", "csv")
    for bad in ("../../etc/passwd", "short", "a" * 19, "abc/def" * 5, "", None):
        assert not importer.valid_token(bad)
        assert importer.load_upload(folder=tmp_path, token=bad) is None
    importer.discard_upload(folder=tmp_path, token=token)
    assert importer.load_upload(folder=tmp_path, token=token) is None
    assert list(tmp_path.iterdir()) == []


def test_stale_uploads_are_purged(tmp_path):
    token = importer.store_upload(folder=tmp_path, data=b"a;b", kind="csv")
    importer.purge_stale_uploads(tmp_path, max_age=-1)
    assert importer.load_upload(folder=tmp_path, token=token) is None
