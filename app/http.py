"""The request class: what every view reads from a form or a query string.

A NUL character is never meaningful in a form field or a search, and PostgreSQL refuses it in
text (SQLite stores it and cuts the text short when it is read back), so it is removed once,
here, rather than in every form and query.
"""

from functools import cached_property

import flask
from werkzeug.formparser import FormDataParser


def _without_nul(pairs, cls):
    return cls((key.replace("\x00", ""), value.replace("\x00", "")) for key, value in pairs)


class _Parser(FormDataParser):
    def parse(self, *args, **kwargs):
        stream, form, files = super().parse(*args, **kwargs)
        return stream, _without_nul(form.items(multi=True), self.cls), files


class Request(flask.Request):
    form_data_parser_class = _Parser

    @cached_property
    def args(self):
        return _without_nul(super().args.items(multi=True), self.parameter_storage_class)
