import pytest
import sqlalchemy as sa

from app.admin import services
from app.auth import passwords, sessions
from app.auth.models import User, UserSession
from app.auth.roles import Role
from app.errors import Conflict, DomainError
from app.extensions import db
from app.people.models import Institution, InstitutionType, Person
from app.programmes.models import ProgrammeMember
from tests.conftest import PASSWORD, create_person, create_programme, create_user, municipality


def _session_count(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(UserSession.id)).where(UserSession.user_id == user.id)
    )


def _sign_in_twice(user: User) -> None:
    for _ in range(2):
        sessions.start_session(user, ip_address="127.0.0.1", user_agent="pytest")
    db.session.commit()


# Roles and account state


def test_set_roles_gives_and_takes_roles():
    admin = create_user(Role.ADMIN)
    user = create_user(Role.LEARNER)
    services.set_roles(user=user, roles={Role.TRAINER, Role.MANAGER}, by=admin)
    db.session.commit()
    assert db.session.get(User, user.id).roles == {Role.TRAINER, Role.MANAGER}


def test_set_roles_requires_at_least_one_role():
    admin = create_user(Role.ADMIN)
    user = create_user(Role.LEARNER)
    with pytest.raises(DomainError) as info:
        services.set_roles(user=user, roles=set(), by=admin)
    assert info.value.field == "roles"


def test_set_roles_refuses_removing_own_admin_role():
    admin = create_user(Role.ADMIN)
    create_user(Role.ADMIN)  # another administrator exists, so only the self rule applies
    with pytest.raises(DomainError, match="your own administrator role") as info:
        services.set_roles(user=admin, roles={Role.MANAGER}, by=admin)
    assert info.value.field == "roles"
    assert admin.is_admin


def test_set_roles_lets_another_admin_remove_the_role():
    admin, other = create_user(Role.ADMIN), create_user(Role.ADMIN)
    services.set_roles(user=other, roles={Role.LEARNER}, by=admin)
    assert not other.is_admin


def test_set_roles_refuses_removing_the_last_active_admin():
    last = create_user(Role.ADMIN)
    retired = create_user(Role.ADMIN)
    retired.active = False
    caller = create_user(Role.MANAGER)  # a script or stale form: the rule holds for any caller
    with pytest.raises(DomainError, match="last active administrator"):
        services.set_roles(user=last, roles={Role.LEARNER}, by=caller)
    assert last.is_admin


def test_set_active_refuses_deactivating_the_last_active_admin():
    last = create_user(Role.ADMIN)
    caller = create_user(Role.MANAGER)
    with pytest.raises(DomainError, match="last active administrator") as info:
        services.set_active(user=last, active=False, by=caller)
    assert info.value.field == "active"
    assert last.active


def test_set_active_refuses_deactivating_yourself():
    admin = create_user(Role.ADMIN)
    create_user(Role.ADMIN)
    with pytest.raises(DomainError, match="deactivate your own account"):
        services.set_active(user=admin, active=False, by=admin)


def test_deactivating_ends_all_sessions_of_the_account():
    admin = create_user(Role.ADMIN)
    user = create_user(Role.LEARNER)
    _sign_in_twice(user)
    _sign_in_twice(admin)
    ended = services.set_active(user=user, active=False, by=admin)
    db.session.commit()
    assert ended == 2
    assert _session_count(user) == 0
    assert _session_count(admin) == 2
    assert not db.session.get(User, user.id).active


def test_activating_again_keeps_roles_and_allows_sign_in():
    admin = create_user(Role.ADMIN)
    user = create_user(Role.TRAINER)
    services.set_active(user=user, active=False, by=admin)
    services.set_active(user=user, active=True, by=admin)
    assert user.active and user.roles == {Role.TRAINER}


def test_update_account_changes_nothing_when_a_rule_is_broken():
    admin = create_user(Role.ADMIN)
    create_user(Role.ADMIN)
    with pytest.raises(DomainError):
        services.update_account(
            user=admin, roles={Role.ADMIN, Role.MANAGER}, active=False, by=admin
        )
    assert admin.roles == {Role.ADMIN} and admin.active


def test_removing_a_programme_role_ends_those_memberships():
    admin = create_user(Role.ADMIN)
    programme = create_programme()
    user = create_user(Role.MANAGER, Role.TRAINER, programme=programme)
    change = services.update_account(user=user, roles={Role.TRAINER}, active=True, by=admin)
    db.session.commit()
    assert change.memberships_ended == 1
    roles = db.session.scalars(
        sa.select(ProgrammeMember.role).where(ProgrammeMember.user_id == user.id)
    ).all()
    assert roles == [Role.TRAINER]


def test_end_sessions_signs_out_everywhere():
    user = create_user()
    _sign_in_twice(user)
    assert services.end_sessions(user=user) == 2
    assert _session_count(user) == 0


# Invitations


def test_invite_creates_a_confirmed_account_without_password():
    user = services.invite_user(
        first_name=" Blerta ",
        last_name="Gashi",
        email="Blerta.Gashi@Example.org",
        roles={Role.TRAINER},
    )
    db.session.commit()
    assert user.person.email == "blerta.gashi@example.org"
    assert user.person.full_name == "Blerta Gashi"
    assert user.password_hash is None
    assert user.email_confirmed_at is not None
    assert user.roles == {Role.TRAINER}


def test_invite_reuses_a_person_without_account():
    person = create_person(first_name="Dren", last_name="Hoxha", email="dren@example.org")
    user = services.invite_user(
        first_name="Other", last_name="Name", email="DREN@example.org", roles={Role.LEARNER}
    )
    assert user.person_id == person.id
    assert person.full_name == "Dren Hoxha"  # the known record is kept as it is
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == 1


def test_invite_refuses_an_address_that_has_an_account():
    existing = create_user()
    with pytest.raises(Conflict, match="already has an account") as info:
        services.invite_user(
            first_name="A", last_name="B", email=existing.email, roles={Role.LEARNER}
        )
    assert info.value.field == "email"


def test_invite_requires_a_role():
    with pytest.raises(DomainError) as info:
        services.invite_user(first_name="A", last_name="B", email="ab@example.org", roles=set())
    assert info.value.field == "roles"


# create_admin (the `flask users create-admin` command)


def test_create_admin_refuses_a_weak_password():
    with pytest.raises(passwords.WeakPassword):
        services.create_admin(
            email="boss@example.org", first_name="Admin", last_name="Akademia", password="short"
        )
    with pytest.raises(passwords.WeakPassword):
        services.create_admin(
            email="boss@example.org",
            first_name="Admin",
            last_name="Akademia",
            password="password1234",
        )
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_create_admin_refuses_an_invalid_address():
    with pytest.raises(DomainError) as info:
        services.create_admin(
            email="not-an-address", first_name="A", last_name="B", password=PASSWORD
        )
    assert info.value.field == "email"


def test_create_admin_creates_a_confirmed_administrator():
    user = services.create_admin(
        email="Boss@Example.org", first_name="Admin", last_name="Akademia", password=PASSWORD
    )
    db.session.commit()
    assert user.email == "boss@example.org"
    assert user.is_admin and user.active and user.email_confirmed_at is not None
    assert passwords.verify_password(user.password_hash, PASSWORD)


def test_create_admin_promotes_an_existing_account():
    user = create_user(Role.MANAGER, confirmed=False)
    user.active = False
    _sign_in_twice(user)
    promoted = services.create_admin(
        email=user.email, first_name="X", last_name="Y", password="quiet-meadow-lantern-47"
    )
    assert promoted.id == user.id
    assert promoted.roles == {Role.MANAGER, Role.ADMIN}
    assert promoted.active and promoted.email_confirmed_at is not None
    assert passwords.verify_password(promoted.password_hash, "quiet-meadow-lantern-47")
    assert _session_count(user) == 0


def test_create_admin_command(runner):
    result = runner.invoke(
        args=["users", "create-admin", "cli@example.org", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(
        sa.select(User).join(User.person).where(Person.email == "cli@example.org")
    )
    assert user.is_admin
    result = runner.invoke(args=["users", "create-admin", "weak@example.org", "--password", "abc"])
    assert result.exit_code != 0 and "12 characters" in result.output


# Institutions


def test_institution_names_are_unique_per_municipality_ignoring_diacritics():
    services.save_institution(
        None,
        name="Komuna e Gjakovës",
        institution_type=InstitutionType.MUNICIPALITY,
        municipality_id=municipality("gjakove").id,
    )
    with pytest.raises(Conflict, match="already an institution") as info:
        services.save_institution(
            None,
            name="  komuna e  GJAKOVES ",
            institution_type=InstitutionType.MUNICIPALITY,
            municipality_id=municipality("gjakove").id,
        )
    assert info.value.field == "name"
    # The same name elsewhere is another institution.
    services.save_institution(
        None,
        name="Komuna e Gjakovës",
        institution_type=InstitutionType.OTHER,
        municipality_id=municipality().id,
    )
    assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 2


def test_institutions_without_municipality_are_unique_too():
    services.save_institution(
        None,
        name="Ministria e Administratës Publike",
        institution_type=InstitutionType.MINISTRY,
        municipality_id=None,
    )
    with pytest.raises(Conflict, match="without a municipality"):
        services.save_institution(
            None,
            name="Ministria e Administrates Publike",
            institution_type=InstitutionType.MINISTRY,
            municipality_id=None,
        )


def test_editing_an_institution_keeps_its_own_name():
    institution = services.save_institution(
        None,
        name="Universiteti i Prishtinës",
        institution_type=InstitutionType.UNIVERSITY,
        municipality_id=municipality().id,
    )
    services.save_institution(
        institution,
        name="Universiteti i Prishtinës",
        institution_type=InstitutionType.UNIVERSITY,
        municipality_id=municipality().id,
    )
    assert institution.name_key == "universiteti i prishtines"


def test_institution_requires_a_known_municipality():
    with pytest.raises(DomainError) as info:
        services.save_institution(
            None, name="X", institution_type=InstitutionType.OTHER, municipality_id=999_999
        )
    assert info.value.field == "municipality"
