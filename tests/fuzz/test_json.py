"""The JSON endpoints (roll-call sync, quiz answer save) fed arbitrary and near-valid JSON:
below 500 every time, a JSON answer, and nothing left half-written."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.auth.roles import Role
from app.extensions import db
from tests.conftest import login
from tests.fuzz import strategies as fuzz
from tests.fuzz.conftest import FUZZ_SETTINGS
from tests.fuzz.test_forms import assert_nothing_half_written, flush_watch  # noqa: F401
from tests.fuzz.world import extend_world

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | fuzz.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(fuzz.text(), children, max_size=4)
    ),
    max_leaves=12,
)
hostile_int = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70), json_values, st.sampled_from([1, 2, 3])
)


def marks_payload(session_id, person_ids):
    mark = st.fixed_dictionaries(
        {},
        optional={
            "session_id": st.one_of(st.just(session_id), hostile_int),
            "person_id": st.one_of(st.sampled_from(person_ids), hostile_int),
            "status": st.one_of(
                st.sampled_from(["present", "late", "excused", "absent"]), json_values
            ),
            "client_id": st.one_of(st.just("fuzz-client-0001"), json_values),
            "marked_at": st.one_of(
                fuzz.date_text(),
                st.sampled_from(
                    ["0001-01-01T00:00+14:00", "9999-12-31T23:59-14:00", "2026-12-02T09:00Z"]
                ),
                json_values,
            ),
            "remark": st.one_of(fuzz.text(), json_values),
            "channel": st.one_of(st.sampled_from(["roll_call", "qr"]), json_values),
        },
    )
    return st.one_of(
        json_values,
        st.fixed_dictionaries({"marks": st.lists(st.one_of(mark, json_values), max_size=5)}),
    )


def answer_payload():
    values = st.dictionaries(
        st.one_of(st.sampled_from(["q1", "q2", "q3", "q4-0", "q5", "q6"]), fuzz.text()),
        st.one_of(
            st.lists(st.one_of(fuzz.text(), fuzz.number_text(), json_values), max_size=3),
            json_values,
        ),
        max_size=4,
    )
    return st.one_of(
        json_values,
        st.fixed_dictionaries({"position": hostile_int, "values": st.one_of(values, json_values)}),
    )


def _post_json(client, url, payload, raw=False):
    body = payload if raw else json.dumps(payload)
    return client.post(url, data=body, content_type="application/json")


@pytest.mark.parametrize("endpoint", ["attendance.sync", "quizzes.save_answer"])
def test_json_endpoint_survives_hostile_json(app, world, flush_watch, endpoint):  # noqa: F811
    users, values = world
    extend_world(users, values)
    if endpoint == "attendance.sync":
        url, role = "/api/attendance/marks", Role.TRAINER
        payloads = marks_payload(values["session_id"], [values["person_id"], values["user_id"]])
    else:
        url, role = f"/attempts/{values['attempt_id']}/answers", Role.LEARNER
        payloads = answer_payload()
    client = app.test_client()
    login(client, users[role])
    # Bodies that are no JSON at all.
    for raw in (b"", b"{", b"\xff\xfe", b"null", b"[]", b'"marks"', b"1e999", b'{"marks": NaN}'):
        response = _post_json(client, url, raw, raw=True)
        assert response.status_code < 500, (raw, response.status_code)
        db.session.rollback()

    @FUZZ_SETTINGS
    @given(payload=payloads)
    def post_hostile_json(payload):
        try:
            response = _post_json(client, url, payload)
            assert response.status_code < 500, f"POST {url}: {response.status_code}"
            assert response.is_json, response.get_data(as_text=True)[:200]
            assert_nothing_half_written(response, f"POST {url}")
        finally:
            db.session.rollback()

    post_hostile_json()
