"""DigComp 2.2: the competence codes courses and questions are tagged with."""

from flask_babel import lazy_gettext as _l

AREAS = {
    "1": _l("Information and data literacy"),
    "2": _l("Communication and collaboration"),
    "3": _l("Digital content creation"),
    "4": _l("Safety"),
    "5": _l("Problem solving"),
}

COMPETENCES = {
    "1.1": _l("Browsing, searching and filtering data, information and digital content"),
    "1.2": _l("Evaluating data, information and digital content"),
    "1.3": _l("Managing data, information and digital content"),
    "2.1": _l("Interacting through digital technologies"),
    "2.2": _l("Sharing through digital technologies"),
    "2.3": _l("Engaging in citizenship through digital technologies"),
    "2.4": _l("Collaborating through digital technologies"),
    "2.5": _l("Netiquette"),
    "2.6": _l("Managing digital identity"),
    "3.1": _l("Developing digital content"),
    "3.2": _l("Integrating and re-elaborating digital content"),
    "3.3": _l("Copyright and licences"),
    "3.4": _l("Programming"),
    "4.1": _l("Protecting devices"),
    "4.2": _l("Protecting personal data and privacy"),
    "4.3": _l("Protecting health and well-being"),
    "4.4": _l("Protecting the environment"),
    "5.1": _l("Solving technical problems"),
    "5.2": _l("Identifying needs and technological responses"),
    "5.3": _l("Creatively using digital technologies"),
    "5.4": _l("Identifying digital competence gaps"),
}

LEVELS = {
    1: _l("Foundation"),
    2: _l("Foundation"),
    3: _l("Intermediate"),
    4: _l("Intermediate"),
    5: _l("Advanced"),
    6: _l("Advanced"),
    7: _l("Highly specialised"),
    8: _l("Highly specialised"),
}


def competence_label(code: str) -> str:
    return f"{code} {COMPETENCES.get(code, '')}".strip()


def level_label(level: int) -> str:
    return f"{level} · {LEVELS.get(level, '')}"
