"""The printed wording of a certificate in each language it can be issued in.

A certificate's language is chosen per run, not the reader's interface language, and an
official document cannot fall back to English while a catalogue waits for a translator; so
its wording ships here in full for every language, reviewed like curriculum content. Add a
language by adding a block with the same keys (tests check that every block has them all).
"""

from datetime import date

from babel.dates import format_date

# Babel locale per certificate language: British English writes "1 December 2026".
BABEL_LOCALES = {"en": "en_GB", "sq": "sq", "sr_Latn": "sr_Latn"}
# Column suffix of translated course fields (Course.title_sq …).
CONTENT_SUFFIX = {"en": "en", "sq": "sq", "sr_Latn": "sr"}
# The lang attribute (BCP 47) of the PDF and its text.
HTML_LANG = {"en": "en", "sq": "sq", "sr_Latn": "sr-Latn"}

WORDING = {
    "en": {
        "title_completion": "Certificate of Completion",
        "title_attendance": "Certificate of Attendance",
        "awarded_to": "This certificate is awarded to",
        "for_completion": "for successfully completing the course",
        "for_attendance": "for attending the course",
        "duration": "Duration",
        "dates": "Dates",
        "place": "Place",
        "competences": "Digital competences (DigComp 2.2)",
        "trainer": "Trainer",
        "trainers": "Trainers",
        "programme": "Programme",
        "donor": "Supported by",
        "issued_on": "Issued on",
        "issuer": "Issued by",
        "number": "Certificate no.",
        "code": "Verification code",
        "verify_hint": "Scan the QR code or visit the address below to verify this certificate.",
    },
    "sq": {
        "title_completion": "Certifikatë përfundimi",
        "title_attendance": "Certifikatë pjesëmarrjeje",
        "awarded_to": "Kjo certifikatë i jepet",
        "for_completion": "për përfundimin me sukses të kursit",
        "for_attendance": "për pjesëmarrjen në kursin",
        "duration": "Kohëzgjatja",
        "dates": "Periudha",
        "place": "Vendi",
        "competences": "Kompetencat digjitale (DigComp 2.2)",
        "trainer": "Trajneri",
        "trainers": "Trajnerët",
        "programme": "Programi",
        "donor": "Me mbështetjen e",
        "issued_on": "Lëshuar më",
        "issuer": "Lëshuar nga",
        "number": "Nr. i certifikatës",
        "code": "Kodi i verifikimit",
        "verify_hint": "Skanoni kodin QR ose vizitoni adresën më poshtë për ta verifikuar këtë certifikatë.",
    },
    "sr_Latn": {
        "title_completion": "Sertifikat o završenom kursu",
        "title_attendance": "Sertifikat o pohađanju kursa",
        "awarded_to": "Ovaj sertifikat se dodeljuje",
        "for_completion": "za uspešno završen kurs",
        "for_attendance": "za pohađanje kursa",
        "duration": "Trajanje",
        "dates": "Period",
        "place": "Mesto",
        "competences": "Digitalne kompetencije (DigComp 2.2)",
        "trainer": "Trener",
        "trainers": "Treneri",
        "programme": "Program",
        "donor": "Uz podršku",
        "issued_on": "Izdato",
        "issuer": "Izdavač",
        "number": "Br. sertifikata",
        "code": "Verifikacioni kod",
        "verify_hint": "Skenirajte QR kod ili posetite adresu ispod da biste proverili ovaj sertifikat.",
    },
}


def hours(n: int, lang: str) -> str:
    if lang == "sq":
        return f"{n} orë"
    if lang == "sr_Latn":
        if n % 10 == 1 and n % 100 != 11:
            return f"{n} čas"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return f"{n} časa"
        return f"{n} časova"
    return f"{n} hour" if n == 1 else f"{n} hours"


def long_date(day: date, lang: str) -> str:
    return format_date(day, "long", locale=BABEL_LOCALES[lang])


def date_range(start: date, end: date, lang: str) -> str:
    if start == end:
        return long_date(start, lang)
    return f"{long_date(start, lang)} – {long_date(end, lang)}"


def course_title(titles: dict, lang: str) -> str:
    return titles.get(CONTENT_SUFFIX[lang]) or titles.get("en") or ""
