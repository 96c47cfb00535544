"""The certificate PDF read back: names with diacritics, numbers, the QR target, metadata,
PDF/A identification, one page, and `qpdf --check`."""

import io
import shutil
import subprocess

import pytest
import segno
from pypdf import PdfReader

from app import pdf
from app.certificates import pipeline, queries, services, signing, storage
from app.certificates.models import CertificateKind, CertificateLanguage
from app.certificates.wording import WORDING
from app.extensions import db
from tests.certificates.helpers import finished_run, pdf_text

LANGUAGES = [language.value for language in CertificateLanguage]


def _issue(language: str, names=None, kind=CertificateKind.COMPLETION, **values):
    world = finished_run(len(names or [1]), names=names, **values)
    services.save_rule(
        world.run,
        kind=kind,
        min_attendance=80,
        require_post_test=False,
        require_survey=False,
        language=CertificateLanguage(language),
        by=None,
    )
    db.session.commit()
    pipeline.issue_run_now(world.run)
    db.session.expire_all()
    certificates = queries.of_run(world.run.id)
    return (
        world,
        certificates,
        [storage.certificate_file(c.file_name).read_bytes() for c in certificates],
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_prints_names_numbers_and_wording(app, language):
    world, (certificate,), (data,) = _issue(language)
    text = pdf_text(data)
    assert "Arbëresha Çeku-Đorđević" in text
    assert certificate.number in text and certificate.code in text
    assert certificate.snapshot["verify_url"].split("//")[1][:20] in text.replace(" ", "")
    for locale in language.split("+"):
        assert WORDING[locale]["title_completion"].upper() in text
        assert WORDING[locale]["awarded_to"] in text
    titles = {
        "en": "Open data for municipalities",
        "sq": "Të dhënat e hapura për komunat",
        "sr_Latn": "Otvoreni podaci za opštine",
    }
    for locale in language.split("+"):
        assert titles[locale] in text
    assert len(PdfReader(io.BytesIO(data)).pages) == 1


def test_all_the_letters_of_albanian_and_serbian_names(app):
    names = [("Ëndërrimë Çelë", "Đurđević-Žižić"), ("Ćazim", "Šćepanović")]
    _world, certificates, files = _issue("sr_Latn+en", names=names)
    texts = {
        c.snapshot["name"]: pdf_text(data) for c, data in zip(certificates, files, strict=True)
    }
    for name, text in texts.items():
        assert name in text


def test_metadata_and_archival_identification(app):
    _world, (certificate,), (data,) = _issue("sq+en")
    reader = PdfReader(io.BytesIO(data))
    meta = reader.metadata
    assert meta.title == f"Certifikatë përfundimi {certificate.number}"
    assert meta.author == "Akademia"
    assert meta.subject == "Arbëresha Çeku-Đorđević · Të dhënat e hapura për komunat"
    assert reader.trailer["/Root"]["/Lang"] == "sq"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert "/OutputIntents" in reader.trailer["/Root"]


def test_qr_code_links_to_the_verification_page_and_carries_the_signed_payload(app):
    _world, (certificate,), (data,) = _issue("en")
    target = f"{certificate.snapshot['verify_url']}#{certificate.token}"
    page = PdfReader(io.BytesIO(data)).pages[0]
    uris = [a.get_object()["/A"]["/URI"] for a in page.get("/Annots", [])]
    assert target in uris
    assert signing.verify(target, signing.public_key())["no"] == certificate.number
    # The QR image itself: module by module, the symbol segno makes for the same text.
    expected = [list(row) for row in segno.make(target, error="m").matrix_iter(scale=1, border=4)]
    (image,) = [img.image for img in page.images]
    gray = image.convert("L")
    size = gray.width // len(expected)
    assert gray.width == gray.height == size * len(expected)
    drawn = [
        [
            gray.getpixel((x * size + size // 2, y * size + size // 2)) < 128
            for x in range(len(expected))
        ]
        for y in range(len(expected))
    ]
    assert drawn == [[bool(v) for v in row] for row in expected]


@pytest.mark.skipif(not shutil.which("qpdf"), reason="qpdf is installed by `make test`")
@pytest.mark.parametrize("language", ["en", "sq+sr_Latn"])
def test_qpdf_check_passes(app, tmp_path, language):
    _world, _certificates, (data,) = _issue(language)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    result = subprocess.run(
        ["qpdf", "--check", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_markup_in_a_name_is_printed_as_text_and_fetches_nothing(app, monkeypatch):
    fetcher = pdf._renderer(app).fetcher
    asked = []
    original = fetcher.fetch

    def spy(url, headers=None):
        asked.append(url)
        return original(url, headers)

    monkeypatch.setattr(fetcher, "fetch", spy)
    _world, (certificate,), (data,) = _issue(
        "en", names=[('<img src="file:///etc/passwd">', "<b>Bold</b>")]
    )
    text = pdf_text(data)
    assert '<imgsrc="file:///etc/passwd"><b>Bold</b>' in text.replace(" ", "")
    assert not [url for url in asked if "passwd" in url]
    assert all(url.startswith("data:") or "/app/static/" in url for url in asked)


def test_a_long_title_and_many_competences_stay_on_one_page(app):
    from app.courses.models import CourseCompetence

    world, _c, _f = _issue("sq+en")
    course = world.run.course
    for code in ("1.2", "1.3", "2.1", "2.2", "2.6", "3.1", "5.1", "5.4"):
        db.session.add(CourseCompetence(course_id=course.id, code=code))
    course.title_en = "Digital services in municipal administration: " * 3
    course.title_sq = "Shërbimet digjitale në administratën komunale: " * 3
    world.people[0].first_name = "Arbëresha-Shpresëtare Mirëmëngjesi"
    person = world.people[0]
    db.session.commit()
    (old,) = queries.of_run(world.run.id)
    new = services.reissue(old, by=world.manager, reason="Name corrected")
    db.session.commit()
    data = storage.certificate_file(new.file_name).read_bytes()
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert person.first_name in pdf_text(data)


def test_programme_logo_from_the_instance_folder(app, tmp_path):
    from pathlib import Path

    world = finished_run(1)
    folder = Path(app.instance_path, "logos")
    folder.mkdir(exist_ok=True)
    logo = folder / f"{world.run.programme.code}.svg"
    logo.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="20">'
        '<text x="0" y="15">DONORLOGO</text></svg>'
    )
    try:
        pipeline.issue_run_now(world.run)
        db.session.expire_all()
        (certificate,) = queries.of_run(world.run.id)
        data = storage.certificate_file(certificate.file_name).read_bytes()
        assert "DONORLOGO" in pdf_text(data)
    finally:
        logo.unlink()
