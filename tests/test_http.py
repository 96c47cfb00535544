"""The request class every view reads: no NUL character reaches a form or a query."""

from flask import request


def test_nul_bytes_are_dropped_from_forms_and_query_strings(app):
    with app.test_request_context(
        "/?q=ab%00c&x%00=1", method="POST", data={"name": "Arb\x00ëresha", "k\x00": ["1\x00", "2"]}
    ):
        assert request.args.to_dict(flat=False) == {"q": ["abc"], "x": ["1"]}
        assert request.form.to_dict(flat=False) == {"name": ["Arbëresha"], "k": ["1", "2"]}
