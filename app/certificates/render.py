"""A certificate's PDF, from its snapshot: plain values in, app.pdf.render_pdf out.

Everything printed comes from the snapshot taken when the certificate was claimed, so the
same certificate renders the same text whenever it is rendered again.
"""

import base64
import mimetypes
from datetime import date
from pathlib import Path

import segno
from flask import current_app

from app.pdf import render_pdf

from .wording import HTML_LANG, WORDING, course_title, date_range, hours, long_date

DEFAULT_LOGO = "img/certificate-seal.svg"  # relative to app/static
LOGO_FOLDER = "logos"  # <instance>/logos/<programme code>.svg|png: a programme's own logo
LOGO_TYPES = (".svg", ".png", ".jpg")
MAX_LOGO_BYTES = 512 * 1024
TEMPLATES = {1: "certificates/certificate.html", 2: "certificates/certificate_bilingual.html"}


def qr_target(verify_url: str, token: str) -> str:
    """What the QR code holds: the public verification page, with the signed payload after #
    (a fragment never reaches the server, and an offline verifier reads it from there)."""
    return f"{verify_url}#{token}"


def qr_data_uri(target: str) -> str:
    # A small PNG renders faster than inline SVG; CSS scales it without smoothing.
    return segno.make(target, error="m", micro=False).png_data_uri(scale=2, border=4)


def programme_logo(programme_code: str) -> dict | None:
    """A programme's logo dropped in the instance folder, as a data: URL (the PDF renderer
    reads nothing outside the app's own folders)."""
    folder = Path(current_app.instance_path, LOGO_FOLDER)
    for suffix in LOGO_TYPES:
        path = folder / f"{programme_code}{suffix}"
        if path.is_file() and path.stat().st_size <= MAX_LOGO_BYTES:
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            return {"src": f"data:{mime};base64,{data}", "alt": programme_code}
    return None


def sizes(name: str, titles: list[str], competences: int, bilingual: bool) -> dict:
    """Type sizes that keep long names, long titles and many competences on the one page."""
    title_chars = sum(len(t) for t in titles)
    per_row = 3 if bilingual else 4
    return {
        "name": "l" if len(name) <= 30 else ("m" if len(name) <= 46 else "s"),
        "title": "l" if title_chars <= 80 else ("m" if title_chars <= 150 else "s"),
        "competences": (
            "full" if competences <= per_row else ("compact" if competences <= 9 else "codes")
        ),
    }


def _both(key: str, locales: list[str]) -> list[str]:
    values = [WORDING[lang][key] for lang in locales]
    return values[:1] if len(set(values)) == 1 else values


def context(certificate: dict) -> dict:
    """The template's values: certificate is a dict of plain values (see pipeline.values_of)."""
    snap = certificate["snapshot"]
    locales = certificate["language"].split("+")
    kind = snap["kind"]
    starts_on = date.fromisoformat(snap["starts_on"])
    ends_on = date.fromisoformat(snap["ends_on"])
    issued_on = date.fromisoformat(snap["issued_on"])
    trainers = snap["trainers"]
    titles = list(dict.fromkeys(course_title(snap["course"]["titles"], lang) for lang in locales))
    target = qr_target(snap["verify_url"], certificate["token"])
    logos = [{"src": DEFAULT_LOGO, "alt": snap["issuer"]}]
    own = programme_logo(snap["programme"]["code"])
    if own:
        logos.append(own)
    return {
        "lang": HTML_LANG[locales[0]],
        "second_lang": HTML_LANG[locales[1]] if len(locales) > 1 else None,
        "title": _both(f"title_{kind}", locales),
        "awarded_to": _both("awarded_to", locales),
        "reason": _both(f"for_{kind}", locales),
        "name": snap["name"],
        "course_titles": titles,
        "sizes": sizes(snap["name"], titles, len(snap["competences"]), len(locales) > 1),
        "course_code": snap["course"]["code"],
        "facts": [
            {
                "label": _both("duration", locales),
                "value": list(dict.fromkeys(hours(snap["course"]["hours"], x) for x in locales)),
            },
            {
                "label": _both("dates", locales),
                "value": list(dict.fromkeys(date_range(starts_on, ends_on, x) for x in locales)),
            },
            {"label": _both("place", locales), "value": [snap["place"]]},
        ],
        "competences_label": _both("competences", locales),
        "competences": [
            {
                "code": c["code"],
                "labels": list(dict.fromkeys(c["labels"].get(x, "") for x in locales)),
            }
            for c in snap["competences"]
        ],
        "trainers_label": _both("trainers" if len(trainers) > 1 else "trainer", locales),
        "trainers": ", ".join(trainers),
        "programme_label": _both("programme", locales),
        "programme": snap["programme"]["name"],
        "donor_label": _both("donor", locales),
        "donor": snap["programme"]["donor"],
        "issuer_label": _both("issuer", locales),
        "issuer": snap["issuer"],
        "issued_label": _both("issued_on", locales),
        "issued": list(dict.fromkeys(long_date(issued_on, x) for x in locales)),
        "number_label": _both("number", locales),
        "number": certificate["number"],
        "code_label": _both("code", locales),
        "code": certificate["code"],
        "verify_hint": _both("verify_hint", locales),
        "verify_url": snap["verify_url"],
        "qr_target": target,
        "qr": qr_data_uri(target),
        "logos": logos,
    }


def certificate_pdf(certificate: dict) -> bytes:
    """Render one certificate (plain values) to an archival PDF with its metadata."""
    values = context(certificate)
    snap = certificate["snapshot"]
    return render_pdf(
        TEMPLATES[min(len(certificate["language"].split("+")), 2)],
        values,
        title=f"{values['title'][0]} {certificate['number']}",
        author=snap["issuer"],
        subject=f"{snap['name']} · {values['course_titles'][0]}",
        lang=values["lang"],
        pdf_variant=current_app.config.get("CERT_PDF_VARIANT") or None,
    )
