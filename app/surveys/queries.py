"""Survey results in SQL aggregates; the indicator functions take run ids (a list or a Select)
so donor reports can reuse them.

Satisfaction (Kirkpatrick level 1): share of reaction responses rating overall satisfaction
4 or 5 of 5. Application (level 3): share of follow-up responses saying they applied what
they learned (regularly or partly).
"""

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.courses.models import CourseRun
from app.extensions import db
from app.people.models import Person

from .models import Applied, Survey, SurveyInvitation, SurveyKind, SurveyResponse

RunIds = Iterable[int] | sa.Select | None
# Below this many answers a trainer could tell who wrote what; results wait until then.
MIN_RESPONSES = 3
RATINGS = ("overall", "relevance", "trainer")


def _runs(run_ids: RunIds):
    if run_ids is None:
        return sa.true()
    if isinstance(run_ids, sa.Select):
        return Survey.run_id.in_(run_ids)
    return Survey.run_id.in_(list(run_ids) or [-1])


def load_survey(survey_id: int) -> Survey | None:
    return db.session.scalar(
        sa.select(Survey)
        .where(Survey.id == survey_id)
        .options(
            so.joinedload(Survey.run).joinedload(CourseRun.course),
            so.joinedload(Survey.run).selectinload(CourseRun.trainer_rows),
        )
    )


def surveys_of_run(run_id: int) -> list[Survey]:
    return list(
        db.session.scalars(sa.select(Survey).where(Survey.run_id == run_id).order_by(Survey.kind))
    )


@dataclass
class Rate:
    invited: int
    responded: int

    @property
    def share(self) -> float | None:
        return self.responded / self.invited if self.invited else None


def response_rates(survey_ids: list[int]) -> dict[int, Rate]:
    result = {sid: Rate(0, 0) for sid in survey_ids}
    if not survey_ids:
        return result
    rows = db.session.execute(
        sa.select(
            SurveyInvitation.survey_id,
            sa.func.count(SurveyInvitation.id),
            sa.func.count(SurveyInvitation.id).filter(SurveyInvitation.responded.is_(True)),
        )
        .where(SurveyInvitation.survey_id.in_(survey_ids))
        .group_by(SurveyInvitation.survey_id)
    )
    for survey_id, invited, responded in rows:
        result[survey_id] = Rate(invited, responded)
    return result


@dataclass
class RatingSummary:
    name: str
    count: int
    mean: float | None
    distribution: list[tuple[int, int]]  # (rating, how many), 5 down to 1
    satisfied: int  # rated 4 or 5

    @property
    def share_satisfied(self) -> float | None:
        return self.satisfied / self.count if self.count else None


def rating_summaries(survey_id: int) -> list[RatingSummary]:
    """Count, mean and distribution of each 1–5 rating: one query."""
    columns = []
    for name in RATINGS:
        column = getattr(SurveyResponse, name)
        columns += [sa.func.count(column), sa.func.avg(column)]
        columns += [sa.func.count(column).filter(column == value) for value in range(5, 0, -1)]
    row = db.session.execute(sa.select(*columns).where(SurveyResponse.survey_id == survey_id)).one()
    summaries, width = [], 7
    for index, name in enumerate(RATINGS):
        count, mean, *dist = row[index * width : (index + 1) * width]
        distribution = list(zip(range(5, 0, -1), dist, strict=True))
        summaries.append(
            RatingSummary(
                name=name,
                count=count,
                mean=None if mean is None else round(float(mean), 2),
                distribution=distribution,
                satisfied=dist[0] + dist[1],
            )
        )
    return summaries


def applied_counts(survey_id: int) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(SurveyResponse.applied, sa.func.count(SurveyResponse.id))
        .where(SurveyResponse.survey_id == survey_id, SurveyResponse.applied.is_not(None))
        .group_by(SurveyResponse.applied)
    )
    counts = {a.value: 0 for a in Applied}
    for applied, count in rows:
        counts[str(applied)] = count
    return counts


@dataclass
class Comment:
    text: str
    how: str | None
    signed_by: str | None


def comments(survey_id: int) -> list[Comment]:
    """Comments in alphabetical order, never by time, with a name only when signed."""
    rows = db.session.execute(
        sa.select(
            SurveyResponse.comment, SurveyResponse.how_applied, Person.first_name, Person.last_name
        )
        .outerjoin(Person, Person.id == SurveyResponse.person_id)
        .where(
            SurveyResponse.survey_id == survey_id,
            sa.or_(SurveyResponse.comment.is_not(None), SurveyResponse.how_applied.is_not(None)),
        )
        .order_by(SurveyResponse.comment, SurveyResponse.how_applied)
    )
    return [
        Comment(text or "", how, f"{first} {last}" if first else None)
        for text, how, first, last in rows
    ]


def my_invitations(run_id: int, person_id: int | None) -> list[tuple[Survey, SurveyInvitation]]:
    if person_id is None:
        return []
    rows = db.session.execute(
        sa.select(Survey, SurveyInvitation)
        .join(SurveyInvitation, SurveyInvitation.survey_id == Survey.id)
        .where(Survey.run_id == run_id, SurveyInvitation.person_id == person_id)
        .order_by(Survey.send_on)
    )
    return [(survey, invitation) for survey, invitation in rows]


# --- indicators for reports ------------------------------------------------------------------


@dataclass(frozen=True)
class Satisfaction:
    responses: int
    satisfied: int  # overall satisfaction 4 or 5
    mean: float | None

    @property
    def share(self) -> float | None:
        return self.satisfied / self.responses if self.responses else None


def satisfaction(run_ids: RunIds = None) -> Satisfaction:
    """Level 1: share of reaction responses rating overall satisfaction 4 or 5."""
    row = db.session.execute(
        sa.select(
            sa.func.count(SurveyResponse.overall),
            sa.func.count(SurveyResponse.id).filter(SurveyResponse.overall >= 4),
            sa.func.avg(SurveyResponse.overall),
        )
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(Survey.kind == SurveyKind.REACTION, _runs(run_ids))
    ).one()
    return Satisfaction(row[0], row[1], None if row[2] is None else round(float(row[2]), 2))


@dataclass(frozen=True)
class Application:
    responses: int
    applied: int  # regularly
    partly: int

    @property
    def share(self) -> float | None:
        """Share who applied what they learned at least partly."""
        return (self.applied + self.partly) / self.responses if self.responses else None


def application(run_ids: RunIds = None) -> Application:
    """Level 3: what the follow-up survey says about using what was learned."""
    row = db.session.execute(
        sa.select(
            sa.func.count(SurveyResponse.applied),
            sa.func.count(SurveyResponse.id).filter(SurveyResponse.applied == Applied.YES),
            sa.func.count(SurveyResponse.id).filter(SurveyResponse.applied == Applied.PARTLY),
        )
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(Survey.kind == SurveyKind.FOLLOW_UP, _runs(run_ids))
    ).one()
    return Application(row[0], row[1], row[2])
