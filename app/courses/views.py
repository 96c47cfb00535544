"""Plain view models for course templates, so templates hold no rules."""

from dataclasses import dataclass
from datetime import date

from app.i18n import LOCALE_NAMES
from app.places.queries import municipality_id_from_choice

from .models import CourseRun
from .queries import CatalogueFilters


@dataclass
class RunCard:
    run_id: int
    slug: str
    code: str
    title: str
    summary: str
    hours: int
    starts_on: object
    ends_on: object
    venue: str
    municipality: str
    language: str
    programme: str
    capacity: int
    taken: int

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.taken, 0)

    @property
    def full(self) -> bool:
        return self.seats_left == 0


def run_card(run: CourseRun, taken: int) -> RunCard:
    return RunCard(
        run_id=run.id,
        slug=run.course.slug,
        code=run.course.code,
        title=run.course.localized("title"),
        summary=run.course.localized("summary"),
        hours=run.course.hours,
        starts_on=run.starts_on,
        ends_on=run.ends_on,
        venue=run.venue,
        municipality=run.municipality.display_name,
        language=LOCALE_NAMES.get(run.language, run.language),
        programme=run.programme.name,
        capacity=run.capacity,
        taken=taken,
    )


def catalogue_filters(form) -> CatalogueFilters:
    def valid(field):
        return field.data if not field.errors and field.data else None

    date_from, date_to = valid(form.date_from), valid(form.date_to)
    if date_from is None and date_to is None:
        date_from = date.today()  # past runs only when someone asks for a date range
    return CatalogueFilters(
        q=valid(form.q),
        topic=valid(form.topic),
        competence=valid(form.competence),
        municipality_id=municipality_id_from_choice(valid(form.municipality)),
        date_from=date_from,
        date_to=date_to,
        language=valid(form.language),
        seats_left=bool(form.seats.data),
        programme_id=municipality_id_from_choice(valid(form.programme)),
    )
