"""Benchmark (not a test): issue N certificates in a batch, next to WeasyPrint alone.

    .venv/bin/python bench/certificates.py            # 500 certificates
    .venv/bin/python bench/certificates.py --count 50

Two child processes, so each one's peak memory is its own:

- app: a throwaway SQLite database with one finished course run of N learners who all meet
  the rule, then `pipeline.issue_run_now(run)` timed: claim (numbers, snapshots, Ed25519
  signatures), QR codes, rendering through app/pdf.py (PDF/A), atomic writes with fsync,
  marking valid. The HTML documents it rendered are saved for the second child.
- weasyprint: the same N HTML documents rendered to PDF by WeasyPrint alone, configured as
  app/pdf.py configures it (shared FontConfiguration, the fonts stylesheet, image cache, the
  same PDF variant), no database, no files.

It prints certificates per second and peak RSS for both, and the ratio (the app's overhead).
Machines here vary by up to ±30% between runs: compare the ratio, not the absolute figures.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- Child: the app -------------------------------------------------------------------------


def make_run(count: int):
    """One finished run of `count` learners, each present at both sessions."""
    import sqlalchemy as sa

    from app.attendance.models import Attendance, AttendanceStatus, Channel, CourseSession
    from app.courses.models import Course, CourseCompetence, CourseRun
    from app.enrollment.models import Enrollment, EnrollmentSource, EnrollmentStatus
    from app.extensions import db
    from app.people.models import Person, Sex
    from app.places.models import Municipality
    from app.programmes.models import Programme

    today = date.today()
    municipality = db.session.scalar(sa.select(Municipality).limit(1))
    programme = Programme(
        code="BENCH",
        name="Digital Agenda Kosovo",
        donor="Demo Donor",
        starts_on=today - timedelta(days=365),
        ends_on=today + timedelta(days=365),
    )
    course = Course(
        slug="bench",
        code="DL-101",
        title_en="Open data for municipalities",
        title_sq="Të dhënat e hapura për komunat",
        title_sr="Otvoreni podaci za opštine",
        summary_en="-",
        description_en="-",
        hours=12,
        level=3,
    )
    course.competences = [CourseCompetence(code=c) for c in ("1.1", "2.2", "4.2")]
    ends_on = today - timedelta(days=3)
    run = CourseRun(
        course=course,
        programme=programme,
        starts_on=ends_on - timedelta(days=1),
        ends_on=ends_on,
        venue="Sala e Kuvendit",
        municipality=municipality,
        language="sq",
        capacity=count,
        enrol_opens_at=datetime(2000, 1, 1),
        enrol_closes_at=datetime(2000, 1, 2),
    )
    db.session.add(run)
    db.session.flush()
    sessions = []
    for day in (run.starts_on, run.ends_on):
        start = datetime.combine(day, clock_time(8))
        sessions.append(
            CourseSession(
                run_id=run.id,
                starts_at=start,
                ends_at=start + timedelta(hours=3),
                venue="Sala",
                municipality_id=municipality.id,
            )
        )
    db.session.add_all(sessions)
    firsts = ["Arbëresha", "Dragan", "Vjosa", "Čedomir", "Ëndrit", "Đurđa", "Shqipe", "Ćazim"]
    lasts = ["Çeku", "Šćekić", "Krasniqi", "Đorđević", "Gashi", "Žagar", "Berisha", "Ćirić"]
    people = [
        Person(
            first_name=firsts[i % 8],
            last_name=f"{lasts[(i // 8) % 8]}-{i}",
            email=f"bench{i}@example.org",
            sex=Sex.FEMALE if i % 2 else Sex.MALE,
        )
        for i in range(count)
    ]
    db.session.add_all(people)
    db.session.flush()
    enrolled_at = datetime.combine(run.starts_on, clock_time(0)) - timedelta(days=30)
    db.session.add_all(
        Enrollment(
            run_id=run.id,
            person_id=p.id,
            status=EnrollmentStatus.ENROLLED,
            source=EnrollmentSource.MANAGER,
            requested_at=enrolled_at,
            enrolled_at=enrolled_at,
        )
        for p in people
    )
    db.session.add_all(
        Attendance(
            session_id=s.id,
            person_id=p.id,
            status=AttendanceStatus.PRESENT,
            marked_at=s.starts_at,
            channel=Channel.ROLL_CALL,
            client_id=f"{s.id}-{p.id}",
        )
        for s in sessions
        for p in people
    )
    db.session.commit()
    return run


def child_app(count: int, out: Path) -> dict:
    from app import create_app, pdf
    from app.database import import_models
    from app.extensions import db
    from app.places.services import seed_places

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{out / 'bench.db'}",
            "SECRET_KEY": "bench-" + "x" * 40,
            "CERT_STORAGE_DIR": str(out / "certificates"),
            "CERT_SIGNING_KEY_PATH": str(out / "signing.pem"),
            "CERT_PUBLIC_URL": "https://akademia.example.org",
        }
    )
    documents: list[str] = []
    original = pdf._Renderer.render

    def recording(self, html, **kwargs):
        documents.append(html)
        return original(self, html, **kwargs)

    pdf._Renderer.render = recording
    with app.app_context():
        import_models()
        db.create_all()
        seed_places()
        run = make_run(count)
        from app.certificates import pipeline

        # The first render pays for importing WeasyPrint and loading fonts: not part of the
        # batch (both children warm up the same way).
        pdf._renderer(app)
        before = rss_mb()
        started = time.perf_counter()
        issued = pipeline.issue_run_now(run)
        seconds = time.perf_counter() - started
    (out / "documents.json").write_text(json.dumps(documents))
    assert issued == count, f"issued {issued} of {count}"
    return {"count": issued, "seconds": seconds, "rss_before_mb": before, "peak_mb": peak_mb()}


# --- Child: WeasyPrint alone ----------------------------------------------------------------


def child_weasyprint(out: Path) -> dict:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    documents = json.loads((out / "documents.json").read_text())
    static = ROOT / "app" / "static"
    font_config = FontConfiguration()
    stylesheets = [
        weasyprint.CSS(filename=str(static / "fonts" / "fonts.css"), font_config=font_config)
    ]
    cache: dict = {}
    base_url = static.as_uri() + "/"
    variant = {"pdf_variant": "pdf/a-3b"}
    before = rss_mb()
    started = time.perf_counter()
    for html in documents:
        document = weasyprint.HTML(string=html, base_url=base_url).render(
            font_config=font_config, stylesheets=stylesheets, cache=cache, **variant
        )
        document.write_pdf(**variant)
    seconds = time.perf_counter() - started
    return {
        "count": len(documents),
        "seconds": seconds,
        "rss_before_mb": before,
        "peak_mb": peak_mb(),
    }


# --- Parent ---------------------------------------------------------------------------------


def run_child(phase: str, count: int, out: Path) -> dict:
    result = subprocess.run(  # noqa: S603 - this script, with its own arguments
        [sys.executable, __file__, "--phase", phase, "--count", str(count), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if result.returncode != 0:
        sys.exit(f"{phase} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="Certificates in a batch vs WeasyPrint alone.")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=1, help="alternate app and WeasyPrint runs")
    parser.add_argument("--phase", choices=["app", "weasyprint"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.phase == "app":
        print(json.dumps(child_app(args.count, args.out)))
        return
    if args.phase == "weasyprint":
        print(json.dumps(child_weasyprint(args.out)))
        return
    rounds = []
    for _round in range(args.rounds):
        # Alternate the two, so that a machine busy with something else weighs on both.
        with tempfile.TemporaryDirectory(prefix="akademia-bench-") as folder:
            out = Path(folder)
            rounds.append(
                (run_child("app", args.count, out), run_child("weasyprint", args.count, out))
            )
    print(
        f"{args.count} certificates, one course run, A4 landscape PDF/A-3b, {args.rounds} round(s)\n"
    )
    print(f"{'':66} {'cert/s':>8} {'s':>8} {'peak MB':>9} {'start MB':>9}")
    labels = (
        "Akademia: issue_run_now (claim, sign, QR, render, write, commit)",
        "WeasyPrint alone, same HTML and settings",
    )
    for app_result, raw_result in rounds:
        for label, r in zip(labels, (app_result, raw_result), strict=True):
            print(
                f"{label:66} {r['count'] / r['seconds']:8.1f} {r['seconds']:8.1f} "
                f"{r['peak_mb']:9.0f} {r['rss_before_mb']:9.0f}"
            )
    ratios = [a["seconds"] / r["seconds"] for a, r in rounds]
    print(
        f"\nratio app / WeasyPrint alone (time per certificate): {statistics.median(ratios):.2f}"
        f" (each round: {', '.join(f'{x:.2f}' for x in ratios)})"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
