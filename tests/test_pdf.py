"""app/pdf.py: plain contexts, escaping, a fetcher that serves only the app's files, fonts."""

import io
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
from pypdf import PdfReader

from app import pdf
from app.pdf import check_plain, css_string, render_pdf
from tests.conftest import create_person

DIACRITICS = "Çeku-Đorđević Arbëresha: ë ç č ć š ž đ Ë Ç Č Ć Š Ž Đ · Ђорђевић Шћепановић"


@pytest.fixture
def templates(app, monkeypatch):
    """Add templates for one test in front of the app's own."""
    env = pdf._environment(app)
    sources: dict[str, str] = {}
    monkeypatch.setattr(
        env, "loader", jinja2.ChoiceLoader([jinja2.DictLoader(sources), env.loader])
    )
    yield sources
    if env.cache is not None:
        env.cache.clear()


@pytest.fixture
def fetched(app, monkeypatch):
    """Every URL the PDF fetcher is asked for, with whether it was refused."""
    fetcher = pdf._renderer(app).fetcher
    calls: list[tuple[str, bool]] = []
    original = fetcher.fetch

    def spy(url, headers=None):
        try:
            response = original(url, headers)
        except pdf.ResourceRefused:
            calls.append((url, True))
            raise
        calls.append((url, False))
        return response

    monkeypatch.setattr(fetcher, "fetch", spy)
    return calls


def text_of(data: bytes) -> str:
    """The PDF's text, with line breaks and runs of spaces made single spaces."""
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def render(app, name, context, **kwargs):
    with app.test_request_context():
        return render_pdf(name, context, title=kwargs.pop("title", "Test"), **kwargs)


def extends(body: str) -> str:
    return '{% extends "pdf/_base.html" %}{% block body %}' + body + "{% endblock %}"


def test_markup_in_a_value_is_printed_as_text(app, templates, fetched):
    templates["t/escape.html"] = extends("<p>{{ name }}</p>")
    output = render(app, "t/escape.html", {"name": '<img src="file:///etc/passwd"> <b>bold</b>'})
    text = text_of(output)
    assert '<img src="file:///etc/passwd">' in text
    assert "<b>bold</b>" in text
    assert not [url for url, _refused in fetched if "passwd" in url]


def test_escaping_is_on_whatever_the_template_name(app, templates):
    templates["t/plain.txt"] = extends("<p>{{ name }}</p>")
    assert "<i>x</i>" in text_of(render(app, "t/plain.txt", {"name": "<i>x</i>"}))


def test_files_outside_the_app_and_remote_urls_are_refused(
    app, templates, fetched, caplog, tmp_path
):
    # Files that would print a marker if they were ever read.
    (tmp_path / "secret.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">'
        '<text x="0" y="20">SECRETMARKER</text></svg>'
    )
    (tmp_path / "secret.css").write_text('body::after { content: "SECRETMARKER"; }')
    templates["t/fetch.html"] = extends(
        '<img src="file:///etc/hostname" alt="">'
        '<img src="http://example.org/x.png" alt="">'
        '<img src="https://example.org/y.png" alt="">'
        '<img src="../../../../../../../../etc/hostname" alt="">'
        f'<img src="{(tmp_path / "secret.svg").as_uri()}" alt="">'
        f'<link rel="stylesheet" href="{(tmp_path / "secret.css").as_uri()}">'
        '<div style="background: url(ftp://example.org/z.png)">x</div>'
        '<img src="img/logo.svg" alt="">'
        "<p>done</p>"
    )
    output = render(app, "t/fetch.html", {})
    refused = {url for url, was_refused in fetched if was_refused}
    assert {
        "file:///etc/hostname",
        "http://example.org/x.png",
        "https://example.org/y.png",
        "ftp://example.org/z.png",
        (tmp_path / "secret.svg").as_uri(),
        (tmp_path / "secret.css").as_uri(),
    } <= refused
    served = [url for url, was_refused in fetched if not was_refused]
    assert any(url.endswith("/app/static/img/logo.svg") for url in served)
    assert all("/app/static/" in url or "/app/templates/" in url for url in served)
    text = text_of(output)
    assert "done" in text
    assert "SECRETMARKER" not in text


def test_the_fetcher_serves_the_app_files_and_data_urls_only(app):
    with app.test_request_context():
        fetcher = pdf._renderer(app).fetcher
    static = Path(app.static_folder).resolve()
    assert fetcher.fetch((static / "fonts" / "fonts.css").as_uri()).read().startswith(b"/*")
    assert fetcher.fetch("data:text/plain;base64,aGVsbG8=").read() == b"hello"
    for url in (
        "file:///etc/hostname",
        (static / ".." / ".." / "pyproject.toml").as_uri(),
        (static / "fonts" / ".." / ".." / "__init__.py").as_uri(),
        "file://example.org" + (static / "fonts" / "fonts.css").as_posix(),
        "http://127.0.0.1:5000/static/css/main.css",
        "gopher://example.org/",
    ):
        with pytest.raises(pdf.ResourceRefused):
            fetcher.fetch(url)


def test_a_model_instance_in_the_context_is_refused(app, templates):
    templates["t/person.html"] = extends("{{ person }}")
    person = create_person()
    with pytest.raises(TypeError, match="plain values"):
        render(app, "t/person.html", {"person": person})
    with pytest.raises(TypeError, match=r"context\['rows'\]\[1\]"):
        render(app, "t/person.html", {"rows": [{"name": "x"}, person]})


def test_plain_values_pass_the_check():
    from datetime import date, datetime
    from decimal import Decimal

    check_plain(
        {"a": [1, 2.5, Decimal("3"), "x", None, True, date(2026, 1, 1), datetime(2026, 1, 1)]}
    )
    with pytest.raises(TypeError):
        check_plain({1: "key not a string"})
    with pytest.raises(TypeError):
        check_plain({"set": {1, 2}})


def test_diacritics_and_cyrillic_survive_with_the_shipped_fonts(app, templates):
    templates["t/names.html"] = extends(
        "<h1>{{ name }}</h1><p>{{ name }}</p><p style='font-family: \"Akademia Serif\"'>{{ name }}</p>"
    )
    output = render(app, "t/names.html", {"name": DIACRITICS})
    assert text_of(output).count(DIACRITICS) == 3
    reader = PdfReader(io.BytesIO(output))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert fonts and all("Akademia" in name for name in fonts), fonts
    assert any("Serif" in name for name in fonts) and any("Bold" in name for name in fonts)


def test_metadata_and_page_numbers(app, templates):
    templates["t/meta.html"] = extends("<p>x</p>")
    output = render(
        app,
        "t/meta.html",
        {},
        title="Certifikatë — Đorđe",
        author="Akademia",
        subject="TalkDigital",
    )
    reader = PdfReader(io.BytesIO(output))
    assert reader.metadata.title == "Certifikatë — Đorđe"
    assert reader.metadata.author == "Akademia"
    assert reader.metadata.subject == "TalkDigital"
    assert "Page 1 of 1" in text_of(output)


def test_pdf_a_variant_for_certificates(app, templates):
    templates["t/pdfa.html"] = extends("<p>{{ name }}</p>")
    output = render(app, "t/pdfa.html", {"name": DIACRITICS}, pdf_variant="pdf/a-3b")
    reader = PdfReader(io.BytesIO(output))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert DIACRITICS in text_of(output)


@pytest.mark.parametrize("variant", [None, "pdf/a-3b"])
def test_qpdf_finds_no_errors(app, templates, tmp_path, variant):
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        pytest.skip("qpdf is not installed (Debian package qpdf): the structure check is skipped")
    templates["t/qpdf.html"] = extends(
        "<table><thead><tr><th>No.</th><th>Name</th></tr></thead><tbody>"
        "{% for i in range(120) %}<tr><td>{{ i }}</td><td>{{ name }}</td></tr>{% endfor %}"
        "</tbody></table>"
    )
    path = tmp_path / "out.pdf"
    path.write_bytes(render(app, "t/qpdf.html", {"name": DIACRITICS}, pdf_variant=variant))
    result = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors" in result.stdout


def test_renders_share_one_font_configuration(app, templates):
    templates["t/shared.html"] = extends("<p>x</p>")
    render(app, "t/shared.html", {})
    with app.test_request_context():
        first = pdf._renderer(app)
    render(app, "t/shared.html", {})
    with app.test_request_context():
        assert pdf._renderer(app) is first
    assert first.font_config is pdf._renderer(app).font_config


def test_a_translation_cannot_break_out_of_the_css_string():
    quoted = css_string('Faqja "1" nga }; @import url(x); \\')
    assert quoted.startswith('"') and quoted.endswith('"')
    inner = quoted[1:-1]
    assert '"' not in inner and "}" not in inner and ";" not in inner and "(" not in inner


def test_weasyprint_is_not_imported_when_the_app_starts():
    code = (
        "import os, sys; os.environ.setdefault('SECRET_KEY', 'x' * 40); "
        "from app import create_app; "
        "create_app({'TESTING': True, 'SQLALCHEMY_DATABASE_URI': 'sqlite://'}); "
        "print('weasyprint' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr
