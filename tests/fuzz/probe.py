"""Which fields a POST route reads: the WTForms it builds, the keys it looks up, the HTML form
that posts to it.

Nothing here is configured per route, so a new form is fuzzed as soon as it has a URL.
"""

from collections import defaultdict
from contextlib import contextmanager
from html.parser import HTMLParser
from urllib.parse import urlsplit

import wtforms
from flask import Request
from werkzeug.datastructures import ImmutableMultiDict

_seen_keys: list[str] | None = None
_seen_forms: list | None = None


class _RecordingMultiDict(ImmutableMultiDict):
    """request.form / request.files that note every key the view asks for."""

    def _note(self, key):
        if _seen_keys is not None and isinstance(key, str):
            _seen_keys.append(key)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        self._note(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        self._note(key)
        return super().getlist(key, type)


@contextmanager
def recording(monkeypatch):
    """While active, requests record the form keys they read and the WTForms they build."""
    global _seen_keys, _seen_forms
    original_init = wtforms.form.BaseForm.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if _seen_forms is not None:
            _seen_forms.append(self)

    monkeypatch.setattr(Request, "parameter_storage_class", _RecordingMultiDict)
    monkeypatch.setattr(wtforms.form.BaseForm, "__init__", init)
    _seen_keys, _seen_forms = [], []
    try:
        yield _seen_keys, _seen_forms
    finally:
        _seen_keys, _seen_forms = None, None


class _Forms(HTMLParser):
    """The named controls of every <form> on a page, with the values the page puts in them."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, list[str]]]] = []
        self._current: dict[str, list[str]] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = defaultdict(list)
            self.forms.append((attrs.get("action") or "", self._current))
        if self._current is None:
            return
        name = attrs.get("name")
        if tag in ("input", "button") and name:
            self._current[name].append(attrs.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self._current[name]
        elif tag == "option" and self._select:
            self._current[self._select].append(attrs.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._current[name]

    def handle_data(self, data):
        if self._textarea and self._current is not None and data.strip():
            self._current[self._textarea].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def html_fields(page: str, url: str) -> dict[str, list[str]]:
    """Controls of the page's forms that post to url (the page's own address when no action)."""
    parser = _Forms()
    parser.feed(page)
    target = urlsplit(url).path
    found: dict[str, list[str]] = defaultdict(list)
    for action, controls in parser.forms:
        if (urlsplit(action).path or target) == target:
            for name, values in controls.items():
                found[name].extend(v for v in values if v not in found[name])
    return dict(found)


def form_fields(forms) -> dict[str, object]:
    """Every leaf field of the recorded WTForms by its posted name (FieldList entries included)."""
    fields = {}
    for form in forms:
        for field in form:
            _leaves(field, fields)
    return fields


def _leaves(field, out):
    if isinstance(field, wtforms.FieldList):
        if not field.entries:
            field.append_entry()
        for entry in field.entries:
            _leaves(entry, out)
    elif isinstance(field, wtforms.FormField):
        for sub in field:
            _leaves(sub, out)
    elif field.type != "CSRFTokenField":
        out[field.name] = field
