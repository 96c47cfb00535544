"""What happened in the runs, for bench/report_data.py: attendance, quizzes, surveys,
certificates, TalkDigital meetings and the programme's participant list.

Attendance is drawn per participation from a propensity (about two thirds diligent, the rest
irregular) so that roughly 70% of participations reach the 80% threshold; as the rows are
written, the headline figure is computed here in Python with the donors' rule, for the year
and for each quarter ("expected" in the benchmark's output).
"""

import hashlib
import random
from datetime import date, datetime, timedelta

CREATED = datetime(2024, 11, 1, 9, 0)
ATTENDED = ("present", "late")
QUESTIONS_PER_BANK = 5
QUIZ_POINTS = 20.0
PASS_MARK = 70.0


def fill(load, rng: random.Random, runs, participations, by_group, quarters, *,
         attempts: int, seed: int) -> dict:  # fmt: skip
    """Write the rows; return the expected number of people trained per period."""
    from app.activities.models import Activity, ActivityParticipant
    from app.attendance.models import Attendance
    from app.certificates.models import Certificate, CertificateCounter
    from app.programmes.models import ProgrammeParticipant
    from app.quizzes.models import Attempt, Question, QuestionBank, Quiz
    from app.surveys.models import Survey, SurveyInvitation, SurveyResponse

    load.insert(Attendance, attendance(rng, participations))
    truth = expected(participations, quarters)
    load.insert(QuestionBank, banks(runs))
    load.insert(Question, questions(runs))
    load.insert(Quiz, quizzes(runs))
    load.insert(Attempt, quiz_attempts(rng, participations, attempts))
    surveys = plan_surveys(runs)
    load.insert(Survey, (s["row"] for s in surveys))
    answered: dict[int, list[int]] = {}
    load.insert(SurveyInvitation, invitations(rng, surveys, participations, answered, seed))
    load.insert(SurveyResponse, responses(rng, surveys, answered))
    issued = certificates(participations, quarters[0], seed)
    load.insert(Certificate, issued)
    load.insert(CertificateCounter, [{"year": quarters[0][1].year, "last_number": len(issued)}])
    activities, guests = plan_activities(rng, by_group, quarters[0][1].year)
    load.insert(Activity, activities)
    load.insert(ActivityParticipant, guests)
    everyone = sorted({p["person"] for p in participations} | {g["person_id"] for g in guests})
    load.insert(ProgrammeParticipant, ({"programme_id": 1, "person_id": pid,
                                        "added_at": CREATED} for pid in everyone))  # fmt: skip
    return truth


def attendance(rng: random.Random, participations):
    """One mark per session held after the person enrolled (until they withdrew)."""
    aid = 0
    for p in participations:
        p["held"] = p["attended"] = 0
        if p["status"] not in ("enrolled", "withdrawn"):
            continue
        run = p["run"]
        rate = rng.uniform(0.88, 1.0) if rng.random() < 0.67 else rng.uniform(0.3, 0.82)
        stop = p["stop_after"] or len(run["sessions"])
        person, marker = p["person"], run["trainers"][0]
        for sid, starts, _ends, cancelled in run["sessions"][p["late_from"] : stop]:
            if cancelled:  # nobody is marked for a cancelled session
                continue
            p["held"] += 1
            roll = rng.random()
            if roll < rate:
                p["attended"] += 1
                status = "late" if roll < rate * 0.08 else "present"
            else:
                status = "excused" if rng.random() < 0.35 else "absent"
            marked = starts + (LATE if status == "late" else ON_TIME)
            channel = CHANNELS[aid % 20]
            aid += 1
            yield {"id": aid, "session_id": sid, "person_id": person, "status": status,
                   "remark": None, "marked_at": marked,
                   "received_at": marked + DELAYS[channel], "marked_by_id": marker,
                   "channel": channel, "client_id": f"{sid}-{person}"}  # fmt: skip


LATE, ON_TIME = timedelta(minutes=25), timedelta(minutes=5)
CHANNELS = ["roll_call"] * 15 + ["qr"] * 4 + ["offline_sync"]
DELAYS = {"roll_call": timedelta(0), "qr": timedelta(0), "offline_sync": timedelta(hours=3)}


def trained(p, threshold: int = 80) -> bool:
    return p["held"] > 0 and p["attended"] * 100 >= threshold * p["held"]


def expected(participations, quarters) -> dict:
    """Distinct people enrolled in runs ending in the period who met the threshold."""
    enrolled = [p for p in participations if p["status"] == "enrolled"]
    year = (quarters[0][1], quarters[-1][2])
    out = {}
    for name, starts, ends in [(f"{year[0].year}", *year), *quarters]:
        out[name] = len({p["person"] for p in enrolled
                         if starts <= p["run"]["ends_on"] <= ends and trained(p)})  # fmt: skip
    with_sessions = [p for p in enrolled if p["held"]]
    out["participations"] = len(with_sessions)
    out["trained_share"] = round(sum(map(trained, with_sessions)) / len(with_sessions), 3)
    return out


def banks(runs):
    for run in runs:
        yield {"id": run["id"], "course_id": run["id"], "slug": "final",
               "title_en": "Final questions", "title_sq": "Pyetjet përfundimtare",
               "title_sr": "Završna pitanja", "source": "curriculum", "content_hash": "",
               "updated_at": CREATED}  # fmt: skip


def questions(runs):
    for run in runs:
        for k in range(QUESTIONS_PER_BANK):
            yield {"bank_id": run["id"], "key": f"q{k + 1}", "position": k + 1,
                   "qtype": "true_false", "competence": "1.1", "level": 2, "points": 1.0,
                   "title": None, "category": None, "text_format": "markdown",
                   "text_en": "A strong password is long.", "text_sq": "Fjalëkalimi i fortë "
                   "është i gjatë.", "text_sr": "Jaka lozinka je duga.", "feedback_en": None,
                   "feedback_sq": None, "feedback_sr": None, "data": {"answer": k % 2 == 0},
                   "active": True, "updated_at": CREATED}  # fmt: skip


KINDS = ("pre_test", "post_test", "practice")


def quiz_id(run: dict, kind: str) -> int:
    return 3 * (run["id"] - 1) + KINDS.index(kind) + 1


def quizzes(runs):
    for run in runs:
        first, last = run["sessions"][0][1], run["sessions"][-1][1]
        windows = {"pre_test": (first - timedelta(days=7), first + timedelta(days=2), 1),
                   "post_test": (last, last + timedelta(days=14), 3),
                   "practice": (first, None, None)}  # fmt: skip
        for kind in KINDS:
            opens, closes, most = windows[kind]
            yield {"id": quiz_id(run, kind), "run_id": run["id"], "bank_id": run["id"],
                   "kind": kind, "title": kind.replace("_", "-").capitalize(),
                   "per_competence": None, "shuffle_questions": True, "shuffle_choices": True,
                   "time_limit_minutes": 30, "max_attempts": most, "pass_mark": PASS_MARK,
                   "opens_at": opens, "closes_at": closes, "show_results": "after_submit",
                   "show_answers": "after_close", "created_at": CREATED,
                   "created_by_id": None}  # fmt: skip


def quiz_attempts(rng: random.Random, participations, total: int):
    """Pre-test once, post-test up to three times; practice attempts make up the total."""
    takers = [p for p in participations if p["status"] in ("enrolled", "withdrawn")]
    sittings = []  # (participation, kind, number, percent or None for an open attempt)
    for p in takers:
        ability = min(max(rng.gauss(0.48, 0.15), 0.0), 1.0)
        if rng.random() < 0.92:
            sittings.append((p, "pre_test", 1, ability))
        # Some only ever take the pre-test (withdrew, or skipped the last session).
        if p["status"] != "enrolled" or rng.random() > (0.9 if trained(p) else 0.45):
            continue
        score = ability + rng.gauss(0.22 if trained(p) else 0.1, 0.1)
        for number in (1, 2, 3):
            score = min(max(score, 0.0), 1.0)
            sittings.append((p, "post_test", number, score))
            if score >= PASS_MARK / 100 or rng.random() < 0.4:
                break
            score += rng.gauss(0.08, 0.05)
    practice: dict[int, int] = {}
    for _ in range(max(total - len(sittings), 0)):
        index = rng.randrange(len(takers))
        practice[index] = practice.get(index, 0) + 1
    for index, count in sorted(practice.items()):
        for number in range(1, count + 1):
            open_one = number == count and rng.random() < 0.05
            sittings.append((takers[index], "practice", number,
                             None if open_one else rng.uniform(0.2, 1.0)))  # fmt: skip
    for aid, (p, kind, number, share) in enumerate(sittings, start=1):
        run = p["run"]
        base = run["sessions"][0][1] if kind == "pre_test" else run["sessions"][-1][1]
        started = base + timedelta(hours=3 + number, minutes=p["person"] % 50)
        row = {"id": aid, "quiz_id": quiz_id(run, kind), "person_id": p["person"],
               "number": number, "state": "open", "started_at": started,
               "deadline": started + timedelta(minutes=30), "last_saved_at": started,
               "finished_at": None, "score": None, "max_score": None, "percent": None,
               "passed": None}  # fmt: skip
        if share is not None:
            score = round(share * QUIZ_POINTS)
            percent = round(100 * score / QUIZ_POINTS, 1)
            timed_out = aid % 50 == 0  # graded by the server when the time ran out
            finished = started + timedelta(minutes=30 if timed_out else 12 + aid % 15)
            row.update(state="timed_out" if timed_out else "submitted", finished_at=finished,
                       last_saved_at=finished, score=float(score), max_score=QUIZ_POINTS,
                       percent=percent, passed=percent >= PASS_MARK)  # fmt: skip
        yield row


def plan_surveys(runs) -> list[dict]:
    """A reaction survey per run; a follow-up 4 months later for runs that ended by August."""
    out = []
    for run in runs:
        out.append({"run": run, "kind": "reaction", "send_on": run["ends_on"], "rate": 0.6})
    for run in runs:
        if run["ends_on"].month <= 8:
            out.append({"run": run, "kind": "follow_up", "rate": 0.35,
                        "send_on": run["ends_on"] + timedelta(days=120)})  # fmt: skip
    for sid, s in enumerate(out, start=1):
        s["id"] = sid
        s["row"] = {"id": sid, "run_id": s["run"]["id"], "kind": s["kind"],
                    "send_on": s["send_on"], "closes_on": s["send_on"] + timedelta(days=21),
                    "sent_at": datetime.combine(s["send_on"], datetime.min.time())
                    + timedelta(hours=15), "created_at": CREATED, "created_by_id": None}  # fmt: skip
    return out


def invitations(rng, surveys, participations, answered: dict, seed: int):
    by_run: dict[int, list[int]] = {}
    for p in participations:
        if p["status"] == "enrolled":
            by_run.setdefault(p["run"]["id"], []).append(p["person"])
    for s in surveys:
        for person in by_run.get(s["run"]["id"], []):
            responded = rng.random() < s["rate"]
            if responded:
                answered.setdefault(s["id"], []).append(person)
            token = hashlib.sha256(f"{seed}:{s['id']}:{person}".encode()).hexdigest()
            yield {"survey_id": s["id"], "person_id": person, "token_hash": token,
                   "created_at": CREATED, "emailed": True, "responded": responded}  # fmt: skip


RATINGS = (1, 2, 3, 4, 5)
RATING_WEIGHTS = (3, 5, 12, 40, 40)
COMMENTS = (None, None, None, "Shumë e dobishme, faleminderit!", "Trajnerja ishte e shkëlqyer.",
            "Više praktičnih vežbi, molim.", "Salla ishte e ftohtë.")  # fmt: skip


def responses(rng, surveys, answered: dict):
    """One anonymous response per invitation answered; a fifth are signed."""
    for s in surveys:
        follow_up = s["kind"] == "follow_up"
        for person in answered.get(s["id"], []):
            overall, relevance, trainer = rng.choices(RATINGS, RATING_WEIGHTS, k=3)
            applied = rng.choices(("yes", "partly", "no"), (45, 35, 20))[0] if follow_up else None
            yield {"survey_id": s["id"],
                   "submitted_on": s["send_on"] + timedelta(days=rng.randint(0, 10)),
                   "overall": None if follow_up else overall,
                   "relevance": relevance, "trainer": None if follow_up else trainer,
                   "applied": applied,
                   "how_applied": "E përdor çdo ditë në zyrë." if applied == "yes" else None,
                   "comment": rng.choice(COMMENTS),
                   "person_id": person if rng.random() < 0.2 else None}  # fmt: skip


def certificates(participations, quarter, seed: int) -> list[dict]:
    """Certificates for the trained learners of the first quarter's runs (issued so far)."""
    _name, starts, ends = quarter
    rows = []
    for p in participations:
        run = p["run"]
        if p["status"] != "enrolled" or not starts <= run["ends_on"] <= ends or not trained(p):
            continue
        n = len(rows) + 1
        issued_on = run["ends_on"] + timedelta(days=3)
        rows.append({"id": n, "number": f"AK-{starts.year}-{n:06d}",
                     "code": hashlib.md5(f"{seed}:{n}".encode()).hexdigest(),  # noqa: S324 - an id
                     "run_id": run["id"], "person_id": p["person"], "kind": "completion",
                     "language": "sq+en", "status": "valid",
                     "snapshot": {"course": f"DL-{run['id']:04d}", "person": p["person"]},
                     "token": "bench", "key_id": "bench", "file_name": f"AK-{n:06d}.pdf",
                     "issued_on": issued_on, "created_at": CREATED,
                     "requested_by_id": None,
                     "issued_at": datetime.combine(issued_on, datetime.min.time()),
                     "lease_until": None, "revoked_at": None, "revoked_by_id": None,
                     "revoked_reason": None, "superseded_at": None, "replaces_id": None})  # fmt: skip
    return rows


def plan_activities(rng: random.Random, by_group: dict, year: int):
    """TalkDigital twice a month, two research workshops, an opening and a closing event."""
    plan = [("initial_event", date(year, 1, 20))]
    plan += [("talkdigital", date(year, m, d)) for m in range(1, 13) for d in (10, 24)]
    plan += [("research_workshop", date(year, 5, 14)), ("research_workshop", date(year, 10, 8))]
    plan += [("closing_event", date(year, 12, 18))]
    guests_pool = by_group["cso"] + by_group["media"] + by_group["other"]
    activities, guests = [], []
    for aid, (kind, day) in enumerate(plan, start=1):
        starts = datetime(day.year, day.month, day.day, 9)
        activities.append({"id": aid, "programme_id": 1, "type": kind,
                           "title": f"TalkDigital: të dhënat e hapura {aid}", "description": None,
                           "starts_at": starts, "ends_at": starts + timedelta(hours=3),
                           "venue": "Salla e konferencave", "municipality_id": None,
                           "cancelled": False, "sequence": 0, "created_at": CREATED})  # fmt: skip
        chosen = rng.sample(guests_pool, rng.randint(20, 60))
        chosen += rng.sample(by_group["municipal_official"], rng.randint(3, 12))
        for person in sorted(set(chosen)):
            guests.append({"activity_id": aid, "person_id": person,
                           "registered_in_advance": rng.random() < 0.8,
                           "attended": rng.random() < 0.85, "added_at": starts,
                           "added_by_id": None})  # fmt: skip
    return activities, guests
