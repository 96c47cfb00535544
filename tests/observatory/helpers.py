"""Factories for the Observatory's tests: objects made through the services, as a manager would."""

from datetime import date

from app.auth.roles import Role
from app.extensions import db
from app.observatory import services
from app.observatory.models import Status
from tests.conftest import create_user

TODAY = date(2026, 6, 15)
EVIDENCE = "https://mapl.rks-gov.net/raporti-2025"


def create_strategy(code="DA-2030", **values):
    fields = dict(
        code=code,
        title_en="Digital Agenda of Kosovo 2030",
        title_sq="Agjenda Digjitale e Kosovës 2030",
        title_sr="Digitalna agenda Kosova 2030",
        starts_year=2023,
        ends_year=2030,
    )
    fields.update(values)
    return services.save_strategy(None, values=services.StrategyFields(**fields))


def create_measure(strategy, code="1.1", **values):
    fields = dict(
        code=code,
        title_en=f"Measure {code}",
        title_sq=f"Masa {code}",
        title_sr=f"Mera {code}",
        responsible="Ministry of Internal Affairs",
    )
    fields.update(values)
    return services.save_measure(None, strategy=strategy, values=services.MeasureFields(**fields))


def create_milestone(measure, code="1", **values):
    fields = dict(code=code, title_en=f"Milestone {code}", due_on=date(2025, 12, 31))
    fields.update(values)
    return services.save_milestone(None, measure=measure, values=services.MilestoneFields(**fields))


def assessor():
    return create_user(Role.MANAGER, first_name="Shpresë", last_name="Gashi-Đorđević")


def assess(milestone, year, status: Status, by, **values):
    fields = dict(
        evidence=EVIDENCE if status not in (Status.NO_EVIDENCE, Status.NOT_STARTED) else "",
        note=None,
        assessed_on=date(year + 1, 1, 20),
        today=TODAY,
    )
    fields.update(values)
    return services.assess_milestone(
        milestone=milestone, year=year, status=status, assessor=by, **fields
    )


def commit():
    db.session.commit()
