"""Courses, runs, sessions and enrolments for bench/report_data.py: plain row dicts.

Runs spread over the programme year so that every quarter has runs ending in it; each has 20
sessions (a few cancelled) and about 25 enrolments, mostly before the first session, some
late (walk-ins at the door, a few who joined after the first sessions), a few withdrawn.
"""

import random
from datetime import date, datetime, timedelta

import report_data_people as people_rows

YEAR = 2025
TRAINERS = 50
SESSIONS_PER_RUN = 20


TOPICS = ["Të dhënat e hapura", "Siguria kibernetike", "Shërbimet elektronike",
          "Mbrojtja e të dhënave personale", "Komunikimi digjital me qytetarët",
          "Dokumentet elektronike", "Prokurimi elektronik", "Pristupačnost veb-sajtova",
          "Veštačka inteligencija u opštini", "Tabelat dhe analiza e të dhënave"]  # fmt: skip
DIGCOMP = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "3.2", "3.3",
           "3.4", "4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3", "5.4"]  # fmt: skip


def courses(rng: random.Random, n: int):
    for cid in range(1, n + 1):
        topic = rng.choice(TOPICS)
        yield {"id": cid, "slug": f"bench-{cid:04d}", "code": f"DL-{cid:04d}",
               "title_en": f"Digital skills {cid}", "title_sq": f"{topic} {cid}",
               "title_sr": f"Digitalne veštine {cid}", "summary_en": "Benchmark course.",
               "summary_sq": None, "summary_sr": None, "description_en": "Benchmark course.",
               "description_sq": None, "description_sr": None, "hours": rng.choice((20, 40, 60)),
               "level": rng.randint(1, 6), "audience": "", "content_hash": "",
               "synced_at": people_rows.CREATED}  # fmt: skip


def competences(rng: random.Random, n: int):
    for cid in range(1, n + 1):
        for code in sorted(rng.sample(DIGCOMP, rng.randint(1, 3))):
            yield {"course_id": cid, "code": code}


def plan_runs(rng: random.Random, n: int, municipalities: dict[str, int]) -> list[dict]:
    """One run per course, 20 sessions each: daily for four weeks or twice a week for ten."""
    codes = list(municipalities)
    weights = [people_rows.POPULATION.get(c, 10) for c in codes]
    first_day, last_day = date(YEAR, 1, 6), date(YEAR, 12, 22)
    runs = []
    for rid in range(1, n + 1):
        daily = rng.random() < 0.5
        weekdays = (0, 1, 2, 3, 4) if daily else rng.choice(((1, 3), (0, 2), (2, 4)))
        span = 26 if daily else 68  # days from the first to the last session, roughly
        start = first_day + timedelta(days=rng.randint(0, (last_day - first_day).days - span))
        days, day = [], start
        while len(days) < SESSIONS_PER_RUN:
            if day.weekday() in weekdays:
                days.append(day)
            day += timedelta(days=1)
        hour = rng.choice((7, 8, 12))  # UTC: 08:00, 09:00 or 13:00 in Prishtina in winter
        minutes = rng.choice((90, 120, 180, 240))
        trainers = rng.sample(range(1, TRAINERS + 1), rng.choice((1, 1, 2)))
        municipality = municipalities[rng.choices(codes, weights)[0]]
        runs.append({
            "id": rid, "ends_on": days[-1], "trainers": trainers, "municipality": municipality,
            "sessions": [],  # (id, starts_at, ends_at, cancelled), filled by sessions()
            "days": days, "hour": hour, "minutes": minutes,
            "row": {"id": rid, "course_id": rid, "programme_id": 1, "starts_on": days[0],
                    "ends_on": days[-1], "venue": "Sala e Kuvendit Komunal",
                    "municipality_id": municipality, "language": rng.choice(("sq", "sq", "sr")),
                    "capacity": 30,
                    "enrol_opens_at": datetime.combine(days[0], datetime.min.time())
                    - timedelta(days=30),
                    "enrol_closes_at": datetime.combine(days[2], datetime.min.time()),
                    "requires_approval": False, "published": True,
                    "created_at": people_rows.CREATED},
        })  # fmt: skip
    return runs


def sessions(rng: random.Random, runs: list[dict]):
    sid = 0
    for run in runs:
        for day in run["days"]:
            sid += 1
            starts = datetime(day.year, day.month, day.day, run["hour"])
            ends = starts + timedelta(minutes=run["minutes"])
            cancelled = rng.random() < 0.01  # a few: trainer ill, hall not available
            run["sessions"].append((sid, starts, ends, cancelled))
            yield {"id": sid, "run_id": run["id"], "starts_at": starts, "ends_at": ends,
                   "venue": "Sala e Kuvendit Komunal", "municipality_id": run["municipality"],
                   "trainer_id": run["trainers"][0],
                   "status": "cancelled" if cancelled else "scheduled",
                   "series_key": f"run{run['id']}", "sequence": 1 if cancelled else 0,
                   "qr_secret": f"{rng.getrandbits(128):032x}" * 2, "note": None,
                   "created_at": people_rows.CREATED,
                   "updated_at": people_rows.CREATED}  # fmt: skip


STATUSES = (("enrolled", 955), ("withdrawn", 20), ("waitlisted", 12), ("pending", 5),
            ("rejected", 8))  # fmt: skip
SOURCES = (("self", 60), ("manager", 25), ("import", 10), ("walk_in", 5))


def plan_enrolments(rng: random.Random, runs: list[dict], learners: list[int], total: int):
    """~25 per run; regulars come back to several courses; a few enrol after the start."""
    per_run = [total // len(runs)] * len(runs)
    per_run[0] += total - sum(per_run)
    for i in range(0, len(runs) - 1, 2):  # spread 20–30 while keeping the total exact
        shift = rng.randint(-5, 5)
        per_run[i] += shift
        per_run[i + 1] -= shift
    out, eid = [], 0
    for run, count in zip(runs, per_run, strict=True):
        chosen: set[int] = set()
        while len(chosen) < count:
            # Skewed towards the front of the shuffled list: some people take many courses.
            chosen.add(learners[int(len(learners) * rng.random() ** 1.7)])
        first = run["sessions"][0][1]
        for person in sorted(chosen):
            eid += 1
            status = people_rows.weighted(rng, STATUSES)
            source = people_rows.weighted(rng, SOURCES)
            requested = first - timedelta(days=rng.randint(2, 30), hours=rng.randint(0, 9))
            enrolled_at, late_from, stop_after = None, 0, None
            if status in ("enrolled", "withdrawn"):
                enrolled_at = requested + timedelta(hours=rng.randint(0, 40))
                if source == "walk_in" or rng.random() < 0.03:
                    # Joined after the first sessions: only sessions from here on count.
                    late_from = rng.randint(1, 3)
                    gap = timedelta(minutes=10 if source == "walk_in" else 60 * 20)
                    enrolled_at = run["sessions"][late_from][1] - gap
                    requested = min(requested, enrolled_at)
                if status == "withdrawn":
                    stop_after = rng.randint(late_from + 1, 12)
            changed = enrolled_at or requested
            out.append({"run": run, "person": person, "status": status, "late_from": late_from,
                        "stop_after": stop_after, "enrolled_at": enrolled_at,
                        "row": {"id": eid, "run_id": run["id"], "person_id": person,
                                "status": status, "source": source, "requested_at": requested,
                                "enrolled_at": enrolled_at, "status_changed_at": changed,
                                "changed_by_id": None}})  # fmt: skip
    return out
