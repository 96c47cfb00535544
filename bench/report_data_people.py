"""Institutions and people for bench/report_data.py: plain row dicts, deterministic per seed.

The distributions are rough but shaped like the programme's participants, so that every
breakdown a donor report makes has many cells, a few small ones and some "unknown" values.
"""

import random
from datetime import datetime

from app.text import normalize_name

# Rough population weights (thousands) so that Prishtinë and Prizren dominate and the small
# Serbian-majority municipalities give the small cells that public reports suppress.
POPULATION = {
    "prishtine": 200, "podujeve": 80, "fushe-kosove": 35, "obiliq": 20, "lipjan": 55,
    "drenas": 58, "gracanice": 11, "novoberde": 7, "mitrovice-jugut": 70,
    "mitrovice-veriut": 25, "vushtrri": 65, "skenderaj": 50, "leposaviq": 13, "zvecan": 17,
    "zubin-potok": 15, "peje": 95, "istog": 40, "kline": 38, "gjakove": 95, "decan": 40,
    "junik": 6, "rahovec": 56, "prizren": 180, "suhareke": 60, "malisheve": 55,
    "dragash": 34, "mamushe": 6, "ferizaj": 110, "kacanik": 33, "shtime": 27,
    "shterpce": 7, "hani-i-elezit": 10, "gjilan": 90, "kamenice": 36, "viti": 47,
    "kllokot": 3, "partesh": 2, "ranillug": 4,
}  # fmt: skip
UNIVERSITY_TOWNS = ("prishtine", "prizren", "peje", "gjakove", "mitrovice-jugut",
                    "mitrovice-veriut", "ferizaj", "gjilan")  # fmt: skip

# Albanian and Serbian names; about a third carry ë ç č ć š ž đ, which outputs must keep.
FIRST_F = ["Arbëresha", "Vjosa", "Shqipe", "Drita", "Blerta", "Ëngjëllushe", "Qëndresa",
           "Fjolla", "Albina", "Mimoza", "Jelena", "Đurđa", "Milica", "Snežana", "Ivana",
           "Dragana", "Ljiljana", "Željka", "Teuta", "Valbona", "Besarta", "Arjeta"]  # fmt: skip
FIRST_M = ["Ëndrit", "Dragan", "Čedomir", "Ćazim", "Arbër", "Driton", "Besnik", "Ilir",
           "Granit", "Fatmir", "Agon", "Nenad", "Miloš", "Đorđe", "Stefan", "Žarko",
           "Bekim", "Valon", "Labinot", "Shkëlzen", "Gëzim", "Luan"]  # fmt: skip
LAST = ["Krasniqi", "Gashi", "Berisha", "Morina", "Shala", "Hoxha", "Kastrati", "Çeku",
        "Bytyçi", "Rexhepi", "Thaçi", "Zeqiri", "Dërmaku", "Mehmeti", "Ahmeti", "Hasani",
        "Đorđević", "Jovanović", "Petrović", "Šćekić", "Ćirić", "Živković", "Stojanović",
        "Nikolić", "Ilić", "Mitrović", "Žagar", "Kurteshi", "Ramadani", "Sylejmani"]  # fmt: skip

MINISTRIES = ["Ministria e Administratës Publike", "Ministria e Arsimit, Shkencës dhe Teknologjisë",
              "Ministria e Ekonomisë", "Ministria e Financave", "Ministria e Drejtësisë",
              "Ministria e Punëve të Brendshme", "Ministria e Shëndetësisë",
              "Ministria e Kulturës, Rinisë dhe Sportit", "Ministria e Bujqësisë",
              "Ministria e Mjedisit", "Ministria e Pushtetit Lokal",
              "Ministria për Komunitete dhe Kthim", "Ministria e Tregtisë dhe Industrisë",
              "Ministria e Punës", "Ministria e Infrastrukturës"]  # fmt: skip
AGENCY_NAMES = ["Agjencia e Shoqërisë së Informacionit", "Agjencia e Statistikave",
                "Agjencia për Mbrojtjen e të Dhënave", "Agjencia e Regjistrimit Civil",
                "Agjencia Kadastrale", "Agjencia e Prokurimit Publik"]  # fmt: skip
# (type, how many) beyond the 38 municipal administrations, the ministries and the agencies.
OTHER_KINDS = [("university", 14), ("cso", 120), ("media", 50), ("private", 35), ("other", 18)]

TARGET_GROUPS = [("municipal_official", 40), ("student", 30), ("cso", 12), ("media", 6),
                 ("other", 12)]  # fmt: skip
POSITIONS = ["Zyrtar për TIK", "Zyrtare e informimit", "Referent", "Zyrtar ligjor",
             "Drejtore e drejtorisë", "Zyrtar për prokurim", "Arhivar", "Službenik za IT"]  # fmt: skip
DEPARTMENTS = ["Drejtoria e Administratës", "Drejtoria e Arsimit", "Drejtoria e Financave",
               "Drejtoria e Urbanizmit", "Zyra e Kryetarit", "Odeljenje za obrazovanje"]  # fmt: skip

CREATED = datetime(2024, 11, 1, 9, 0)


def weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def institutions(rng: random.Random, municipalities: dict[str, int]) -> list[dict]:
    """About 300 institutions; the municipal administrations come first (ids 1..38)."""
    capital = municipalities["prishtine"]
    names: list[tuple[str, str, int]] = [
        (f"Komuna e {code.replace('-', ' ').title()}", "municipality", mid)
        for code, mid in municipalities.items()
    ]
    names += [(name, "ministry", capital) for name in MINISTRIES]
    names += [(name, "agency", capital) for name in AGENCY_NAMES]
    names += [(f"Agjencia Rajonale e Zhvillimit {i + 1}", "agency", rng.choice(list(
        municipalities.values()))) for i in range(14)]  # fmt: skip
    towns = [municipalities[c] for c in UNIVERSITY_TOWNS]
    codes = list(municipalities)
    weights = [POPULATION.get(c, 10) for c in codes]
    for kind, count in OTHER_KINDS:
        for i in range(count):
            if kind == "university":
                mid = towns[i % len(towns)]
            else:
                mid = municipalities[rng.choices(codes, weights)[0]]
            label = {"university": "Universiteti", "cso": "OJQ", "media": "Media",
                     "private": "Kompania", "other": "Institucioni"}[kind]  # fmt: skip
            names.append((f"{label} {rng.choice(LAST)} {i + 1}", kind, mid))
    return [
        {
            "id": i + 1,
            "name": name,
            "name_key": normalize_name(name),
            "type": kind,
            "municipality_id": mid,
        }
        for i, (name, kind, mid) in enumerate(names)
    ]


def birth_year(rng: random.Random, group: str, year: int) -> int:
    """Ages by target group; every donor age band (15–24 … 65+) gets people."""
    if group == "student":
        age = rng.choices([rng.randint(15, 17), rng.randint(18, 24), rng.randint(25, 29)],
                          [3, 80, 17])[0]  # fmt: skip
    elif group == "municipal_official":
        age = rng.choices([rng.randint(22, 24), rng.randint(25, 29), rng.randint(30, 44),
                           rng.randint(45, 64), rng.randint(65, 70)], [3, 12, 45, 38, 2])[0]  # fmt: skip
    else:
        age = rng.choices([rng.randint(16, 24), rng.randint(25, 29), rng.randint(30, 44),
                           rng.randint(45, 64), rng.randint(65, 82)], [20, 15, 35, 24, 6])[0]  # fmt: skip
    return year - age


def people(rng: random.Random, count: int, municipalities: dict[str, int],
           institution_rows: list[dict], year: int):  # fmt: skip
    """Yield `count` person rows (ids 1..count)."""
    codes = list(municipalities)
    weights = [POPULATION.get(c, 10) for c in codes]
    by_type: dict[str, list[dict]] = {}
    for row in institution_rows:
        by_type.setdefault(row["type"], []).append(row)
    administrations = {row["municipality_id"]: row["id"] for row in by_type["municipality"]}
    band_only = ["15-24", "25-29", "30-44", "45-64", "65+"]
    keys: dict[tuple[str, str], str] = {}
    for pid in range(1, count + 1):
        sex = weighted(rng, (("female", 52), ("male", 45), ("undisclosed", 3)))
        first_pool = FIRST_F if sex == "female" else FIRST_M if sex == "male" else FIRST_F + FIRST_M
        first, last = rng.choice(first_pool), rng.choice(LAST)
        key = keys.get((first, last))
        if key is None:
            key = keys[(first, last)] = normalize_name(f"{first} {last}")
        group = weighted(rng, TARGET_GROUPS)
        municipality = municipalities[rng.choices(codes, weights)[0]]
        institution = position = department = None
        roll = rng.random()
        if group == "municipal_official":
            if roll < 0.85:
                institution = administrations[municipality]
                position, department = rng.choice(POSITIONS), rng.choice(DEPARTMENTS)
            else:  # central institutions send staff too
                institution = rng.choice(by_type["ministry"] + by_type["agency"])["id"]
        elif group in ("student", "cso", "media"):
            kind = "university" if group == "student" else group
            institution = rng.choice(by_type[kind])["id"] if roll < 0.95 else None
        elif roll < 0.5:
            institution = rng.choice(by_type["private"] + by_type["other"])["id"]
        # Some people give only an age band, a few give neither; some give no municipality.
        born = band = None
        age_roll = rng.random()
        if age_roll < 0.93:
            born = birth_year(rng, group, year)
        elif age_roll < 0.98:
            band = rng.choice(band_only)
        yield {
            "id": pid,
            "first_name": first,
            "last_name": last,
            "name_key": key,
            "email": f"person{pid}@example.org" if rng.random() < 0.9 else None,
            "phone": None,
            "sex": sex,
            "birth_year": born,
            "age_band": band,
            "municipality_id": municipality if rng.random() < 0.98 else None,
            "institution_id": institution,
            "position": position,
            "department": department,
            "target_group": group,
            "consent_photos": False,
            "consent_public_name": False,
            "needs_review": False,
            "created_at": CREATED,
            "updated_at": CREATED,
        }
