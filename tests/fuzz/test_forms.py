"""Every POST route, fed hostile values for its real fields, answers below 500 and leaves
nothing half-written in the session.

Routes come from app.url_map, so a new form is fuzzed without touching this file. The
signed-in role is one the route's decorator allows; URL arguments come from the access
matrix's world (tests/test_access.py) plus tests/fuzz/world.py.
"""

import io
import os

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from app import create_app
from app.auth.roles import Role
from app.extensions import db
from tests.conftest import login
from tests.fuzz import probe
from tests.fuzz import strategies as fuzz
from tests.fuzz.conftest import FUZZ_SETTINGS
from tests.fuzz.world import extend_world
from tests.test_access import _url

# Routes whose POST ends the fuzzing client's own session; the test signs in again after them.
SIGNS_OUT = {"auth.logout", "auth.end_other_sessions", "admin.end_sessions"}


def _post_rules():
    os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 40)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    return sorted(rules, key=lambda r: r.rule)


POST_RULES = _post_rules()


def role_for(view) -> Role | None:
    """The least powerful role the route's decorator lets in (None: anonymous)."""
    if getattr(view, "is_public", False):
        return None
    required = getattr(view, "required_roles", ())
    if not required:
        return Role.LEARNER
    for role in (Role.LEARNER, Role.TRAINER, Role.MANAGER, Role.ADMIN):
        if role in required:
            return role
    return Role.ADMIN


def _parent_pages(url: str):
    """The route's own address, then its parents: a POST-only route's form lives there."""
    parts = url.rstrip("/").split("/")
    for end in range(len(parts), 1, -1):
        yield "/".join(parts[:end])


def discover(app, client, url, rule, monkeypatch):
    """Fields the route reads (name → WTForms field or None) and plausible values per name."""
    plausible: dict[str, list[str]] = {}
    for page_url in _parent_pages(url):
        response = client.get(page_url)
        if response.status_code == 200 and response.mimetype == "text/html":
            plausible = probe.html_fields(response.get_data(as_text=True), url)
            if plausible:
                break
    with probe.recording(monkeypatch) as (keys, forms):
        client.post(url, data={})
        fields = dict.fromkeys(keys)
        fields.update(probe.form_fields(forms))
    db.session.rollback()
    for name in plausible:
        fields.setdefault(name, None)
    fields.pop("csrf_token", None)
    return fields, plausible


def _value_strategy(field, plausible):
    if field is None:
        base = st.one_of(
            st.sampled_from(plausible) if plausible else fuzz.text(),
            fuzz.text(),
            fuzz.number_text(),
            fuzz.date_text(),
        )
    else:
        base = fuzz.for_field(field, plausible)
    if field is not None and field.type == "FileField":
        return st.one_of(base, st.none())
    return fuzz.as_list_sometimes(base)


def assert_nothing_half_written(response, where):
    """After any answer the request's session holds no unsaved objects and no flushed rows
    that were neither committed nor rolled back."""
    session = db.session()
    assert not session.new, f"{where}: objects added but not saved: {list(session.new)[:3]}"
    assert not session.deleted, f"{where}: objects deleted but not saved"
    assert not session.info.get("fuzz_flushed"), (
        f"{where}: rows were flushed and left uncommitted ({response.status_code})"
    )


@pytest.fixture
def flush_watch(app):
    """Mark the session when it flushes, clear the mark when it commits or rolls back."""

    def flushed(session, _context):
        session.info["fuzz_flushed"] = True

    def ended(session, *_args):
        session.info.pop("fuzz_flushed", None)

    sa.event.listen(db.session, "after_flush", flushed)
    sa.event.listen(db.session, "after_commit", ended)
    sa.event.listen(db.session, "after_soft_rollback", ended)
    yield
    sa.event.remove(db.session, "after_flush", flushed)
    sa.event.remove(db.session, "after_commit", ended)
    sa.event.remove(db.session, "after_soft_rollback", ended)


@pytest.mark.parametrize("rule", POST_RULES, ids=lambda r: f"{r.endpoint}:{r.rule}")
def test_post_route_survives_hostile_input(app, world, flush_watch, monkeypatch, rule):
    users, values = world
    per_endpoint = extend_world(users, values)
    url = _url(rule, {**values, **per_endpoint.get(rule.endpoint, {})})
    role = role_for(app.view_functions[rule.endpoint])
    client = app.test_client()

    def sign_in():
        if role is not None:
            login(client, users[role])

    sign_in()
    fields, plausible = discover(app, client, url, rule, monkeypatch)

    names = sorted(fields)

    @FUZZ_SETTINGS
    @given(data=st.data())
    def post_hostile_form(data):
        # Mostly one hostile field in an otherwise plausible form, so that the value gets
        # past the other fields' validation to the code behind; sometimes all of them.
        target = data.draw(st.sampled_from([*names, None]), label="hostile field (None: all)")
        form, files = {}, False
        for name in names:
            field, seen = fields[name], plausible.get(name, [])
            if target is not None and name != target and seen:
                value = data.draw(st.sampled_from(seen), label=name)
            else:
                value = data.draw(_value_strategy(field, seen), label=name)
            if value is None:
                continue
            if isinstance(value, tuple):  # a file: (bytes, filename, content type)
                content, filename, mime = value
                value = (io.BytesIO(content), filename, mime)
                files = True
            form[name] = value
        try:
            response = client.post(
                url, data=form, content_type="multipart/form-data" if files else None
            )
            where = f"POST {url} as {role}"
            assert response.status_code < 500, f"{where}: {response.status_code}"
            assert_nothing_half_written(response, where)
        finally:
            db.session.rollback()  # as the end of a real request does: the next starts clean
        if rule.endpoint in SIGNS_OUT or "/auth/sign-in" in response.headers.get("Location", ""):
            sign_in()

    post_hostile_form()


def test_every_post_route_is_fuzzed(app):
    """The parametrised test above covers the app's POST routes as they are now."""
    now = {(r.rule, r.endpoint) for r in app.url_map.iter_rules() if "POST" in r.methods}
    assert now == {(r.rule, r.endpoint) for r in POST_RULES}
