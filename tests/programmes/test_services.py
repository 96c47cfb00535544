from datetime import date

import pytest
import sqlalchemy as sa

from app.auth.roles import Role
from app.errors import Conflict, DomainError
from app.extensions import db
from app.programmes import services
from app.programmes.models import Programme, ProgrammeMember, ReportingPeriod
from tests.conftest import create_programme, create_user


def _values(**overrides) -> dict:
    values = dict(
        code="dl-2026",
        name="Digital Literacy",
        donor="Demo Donor",
        grant_code=None,
        description=None,
        starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31),
        attendance_threshold=80,
    )
    values.update(overrides)
    return values


# Programmes


def test_save_programme_stores_the_code_in_capitals():
    programme = services.save_programme(None, **_values(code="  dl-2026 "))
    assert programme.code == "DL-2026"


def test_save_programme_refuses_a_code_in_use_whatever_the_case():
    services.save_programme(None, **_values(code="DL-2026"))
    with pytest.raises(Conflict) as info:
        services.save_programme(None, **_values(code="dl-2026", name="Another"))
    assert info.value.field == "code"
    assert db.session.scalar(sa.select(sa.func.count(Programme.id))) == 1


def test_save_programme_keeps_its_own_code_when_edited():
    programme = services.save_programme(None, **_values())
    services.save_programme(programme, **_values(name="Renamed"))
    assert programme.name == "Renamed" and programme.code == "DL-2026"


def test_save_programme_refuses_end_before_start():
    with pytest.raises(DomainError) as info:
        services.save_programme(None, **_values(ends_on=date(2025, 1, 1)))
    assert info.value.field == "ends_on"


@pytest.mark.parametrize("threshold", [49, 101])
def test_save_programme_refuses_a_threshold_outside_50_to_100(threshold):
    with pytest.raises(DomainError) as info:
        services.save_programme(None, **_values(attendance_threshold=threshold))
    assert info.value.field == "attendance_threshold"


def test_save_programme_refuses_dates_that_leave_a_period_outside():
    programme = services.save_programme(None, **_values())
    services.add_period(
        programme=programme, name="Year 2", starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31)
    )
    with pytest.raises(DomainError, match="Year 2") as info:
        services.save_programme(programme, **_values(ends_on=date(2027, 6, 30)))
    assert info.value.field == "ends_on"
    assert programme.ends_on == date(2027, 12, 31)


# Reporting periods


def test_add_period_inside_the_programme():
    programme = create_programme(starts_on=date(2026, 1, 1), ends_on=date(2027, 12, 31))
    period = services.add_period(
        programme=programme, name=" Year 1 ", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31)
    )
    db.session.commit()
    assert period.name == "Year 1"
    assert [p.name for p in programme.periods] == ["Year 1"]


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "field"),
    [
        (date(2025, 12, 1), date(2026, 3, 31), "starts_on"),
        (date(2027, 10, 1), date(2028, 1, 31), "ends_on"),
    ],
)
def test_add_period_refuses_dates_outside_the_programme(starts_on, ends_on, field):
    programme = create_programme(starts_on=date(2026, 1, 1), ends_on=date(2027, 12, 31))
    with pytest.raises(DomainError, match="within the programme") as info:
        services.add_period(programme=programme, name="Q", starts_on=starts_on, ends_on=ends_on)
    assert info.value.field == field


def test_add_period_refuses_end_before_start():
    programme = create_programme()
    with pytest.raises(DomainError) as info:
        services.add_period(
            programme=programme, name="Q", starts_on=date(2026, 5, 1), ends_on=date(2026, 4, 1)
        )
    assert info.value.field == "ends_on"


def test_add_period_refuses_overlap():
    programme = create_programme()
    services.add_period(
        programme=programme, name="H1", starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30)
    )
    with pytest.raises(Conflict, match="overlaps H1"):
        services.add_period(
            programme=programme,
            name="Q2-Q3",
            starts_on=date(2026, 6, 30),
            ends_on=date(2026, 9, 30),
        )
    # Touching without sharing a day is fine.
    services.add_period(
        programme=programme, name="H2", starts_on=date(2026, 7, 1), ends_on=date(2026, 12, 31)
    )


def test_add_period_refuses_a_duplicate_name():
    programme = create_programme()
    services.add_period(
        programme=programme, name="Year 1", starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30)
    )
    with pytest.raises(Conflict) as info:
        services.add_period(
            programme=programme,
            name="Year 1",
            starts_on=date(2027, 1, 1),
            ends_on=date(2027, 6, 30),
        )
    assert info.value.field == "name"


def test_same_period_name_in_two_programmes():
    for programme in (create_programme(), create_programme()):
        services.add_period(
            programme=programme,
            name="Year 1",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
        )
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(ReportingPeriod.id))) == 2


def test_delete_period_frees_its_dates_and_name():
    programme = create_programme()
    period = services.add_period(
        programme=programme, name="Year 1", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31)
    )
    db.session.commit()
    services.delete_period(period=period)
    db.session.commit()
    services.add_period(
        programme=programme, name="Year 1", starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30)
    )


# Members


@pytest.mark.parametrize("role", [Role.MANAGER, Role.TRAINER])
def test_add_member_gives_the_role(role):
    programme = create_programme()
    user = create_user(Role.LEARNER)
    member = services.add_member(programme=programme, user=user, role=role)
    db.session.commit()
    assert member.role == role
    assert user.roles == {Role.LEARNER, role}


@pytest.mark.parametrize("role", [Role.LEARNER, Role.ADMIN])
def test_add_member_refuses_roles_that_are_not_programme_roles(role):
    programme = create_programme()
    user = create_user(Role.LEARNER)
    with pytest.raises(DomainError) as info:
        services.add_member(programme=programme, user=user, role=role)
    assert info.value.field == "role"


def test_add_member_refuses_a_duplicate_but_allows_a_second_role():
    programme = create_programme()
    user = create_user(Role.TRAINER, programme=programme)
    with pytest.raises(Conflict, match="already a member"):
        services.add_member(programme=programme, user=user, role=Role.TRAINER)
    services.add_member(programme=programme, user=user, role=Role.MANAGER)
    db.session.commit()
    count = db.session.scalar(
        sa.select(sa.func.count(ProgrammeMember.id)).where(ProgrammeMember.user_id == user.id)
    )
    assert count == 2


def test_add_member_refuses_a_deactivated_account():
    programme = create_programme()
    user = create_user(Role.TRAINER)
    user.active = False
    with pytest.raises(DomainError, match="deactivated") as info:
        services.add_member(programme=programme, user=user, role=Role.TRAINER)
    assert info.value.field == "user_id"


def test_remove_member_keeps_the_account_role():
    programme = create_programme()
    user = create_user(Role.MANAGER, programme=programme)
    member = db.session.scalar(sa.select(ProgrammeMember).where(ProgrammeMember.user_id == user.id))
    services.remove_member(member=member)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(ProgrammeMember.id))) == 0
    assert user.roles == {Role.MANAGER}
