"""The one place that renders PDFs: sign-in sheets, certificates and reports all come through here.

render_pdf() takes a Jinja template name and a context of plain values (no model instances),
escapes everything, fetches nothing but the app's own static and template files and data: URLs,
and draws text with the DejaVu fonts shipped in app/static/fonts, so ë ç č ć š ž đ and Cyrillic
look the same on every machine.

WeasyPrint is imported on first use (the import takes half a second). The font configuration,
the parsed font stylesheet and the image cache are made once per process and shared by every
render: memory stays flat over thousands of renders, and a one-page certificate takes ≈20 ms
instead of ≈40 ms. Renders take turns behind a lock, since those shared objects are not made for
concurrent use.
"""

import logging
import mimetypes
import re
import threading
import time as clock
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from flask import Flask, current_app
from flask_babel import gettext as _
from markupsafe import Markup

from .i18n import current_locale

log = logging.getLogger(__name__)

# What a template context may hold; containers (dict, list, tuple) are checked item by item.
# Markup is a str that the caller has marked as safe HTML on purpose.
PLAIN_TYPES = (str, bool, int, float, Decimal, date, datetime, time, timedelta, type(None))
MAX_DEPTH = 12
FONT_STYLESHEET = "fonts/fonts.css"  # in the static folder
# Images fetched once per process; data: URLs (QR codes, charts) differ every time, so the
# cache is emptied between renders once it holds this many entries.
MAX_CACHED_IMAGES = 200


class ResourceRefused(ValueError):
    """A template asked for something outside the app's own files."""


def render_pdf(
    template: str,
    context: dict,
    *,
    title: str,
    author: str = "Akademia",
    subject: str | None = None,
    lang: str | None = None,
    pdf_variant: str | None = None,
) -> bytes:
    """Render the template with plain values to PDF bytes.

    pdf_variant: None for plain PDF, or a WeasyPrint variant such as "pdf/a-3b" (archival,
    for certificates). Raises TypeError when the context holds anything but plain values.
    """
    check_plain(context)
    app = current_app._get_current_object()
    renderer = _renderer(app)
    html = _environment(app).get_template(template).render(**context)
    lang = lang or current_locale().replace("_", "-")
    return renderer.render(
        html, title=title, author=author, subject=subject, lang=lang, pdf_variant=pdf_variant
    )


def check_plain(value, where: str = "context", depth: int = 0) -> None:
    """Raise TypeError unless the value is made of dicts, lists, str, numbers and dates only.

    Model instances are refused on purpose: a template that lazy-loads relationships runs
    queries while rendering and can show more than the caller meant to hand over.
    """
    if depth > MAX_DEPTH:
        raise TypeError(f"{where} is nested more than {MAX_DEPTH} levels deep.")
    if isinstance(value, PLAIN_TYPES):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a key that is not a string: {key!r}.")
            check_plain(item, f"{where}[{key!r}]", depth + 1)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_plain(item, f"{where}[{index}]", depth + 1)
        return
    raise TypeError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}: PDF templates take "
        "plain values only (dict, list, str, numbers, dates). Copy what the template shows "
        "into a dict first."
    )


def page_numbers() -> Markup:
    """CSS `content` for "Page x of y" in the interface language, for an @page margin box."""
    text = _("Page %(page)s of %(pages)s", page="\x01", pages="\x02")
    parts = []
    for piece in re.split("([\x01\x02])", text):
        if piece == "\x01":
            parts.append("counter(page)")
        elif piece == "\x02":
            parts.append("counter(pages)")
        elif piece:
            parts.append(css_string(piece))
    return Markup(" ".join(parts))  # noqa: S704 - only counters and escaped CSS strings


def css_string(text: str) -> str:
    """A quoted CSS string in which every character but ASCII letters, digits and spaces is
    written as a hex escape, so a translation can never end the string or the rule."""
    escaped = "".join(
        c if (c.isascii() and c.isalnum()) or c == " " else f"\\{ord(c):06x}" for c in text
    )
    return f'"{escaped}"'


# --- Process-wide state ---------------------------------------------------------------------


def _environment(app: Flask):
    """The app's Jinja environment with autoescaping forced on, whatever the template's name."""
    env = app.extensions.get("pdf_jinja_env")
    if env is None:
        env = app.jinja_env.overlay(autoescape=True)
        # The overlay shares the globals dict with the app's environment: copy before adding.
        env.globals = {**app.jinja_env.globals, "page_numbers": page_numbers}
        app.extensions["pdf_jinja_env"] = env
    return env


_renderers: dict[str, "_Renderer"] = {}
_renderers_lock = threading.Lock()


def _renderer(app: Flask) -> "_Renderer":
    key = str(Path(app.static_folder).resolve())
    with _renderers_lock:
        if key not in _renderers:
            _renderers[key] = _Renderer(app)
        return _renderers[key]


def allowed_roots(app: Flask) -> list[Path]:
    """The folders whose files a PDF may use: the app's static files and templates."""
    return [
        Path(app.static_folder).resolve(),
        Path(app.root_path, app.template_folder or "templates").resolve(),
    ]


class _Renderer:
    def __init__(self, app: Flask):
        # Half a second: paid when the first PDF is made, not when the app starts.
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        self._weasyprint = weasyprint
        self.roots = allowed_roots(app)
        self.base_url = Path(app.static_folder).resolve().as_uri() + "/"
        self.fetcher = _restricted_fetcher_class(weasyprint)(self.roots)
        self.font_config = FontConfiguration()
        self.stylesheets = [
            weasyprint.CSS(
                filename=str(Path(app.static_folder, FONT_STYLESHEET)),
                url_fetcher=self.fetcher,
                font_config=self.font_config,
            )
        ]
        self.image_cache: dict = {}
        self.lock = threading.Lock()

    def render(
        self,
        html: str,
        *,
        title: str,
        author: str,
        subject: str | None,
        lang: str,
        pdf_variant: str | None,
    ) -> bytes:
        started = clock.perf_counter()
        options = {"pdf_variant": pdf_variant} if pdf_variant else {}
        with self.lock:
            if len(self.image_cache) > MAX_CACHED_IMAGES:
                self.image_cache.clear()
            document = self._weasyprint.HTML(
                string=html, base_url=self.base_url, url_fetcher=self.fetcher
            ).render(
                font_config=self.font_config,
                stylesheets=self.stylesheets,
                cache=self.image_cache,
                **options,
            )
            document.metadata.title = title
            document.metadata.authors = [author]
            document.metadata.description = subject
            document.metadata.lang = lang
            document.metadata.generator = "Akademia"
            pdf = document.write_pdf(**options)
        log.debug(
            "PDF %r: %d pages in %.0f ms",
            title,
            len(document.pages),
            1000 * (clock.perf_counter() - started),
        )
        return pdf


def _restricted_fetcher_class(weasyprint):
    """A URLFetcher that serves the allowed folders' files and data: URLs, and refuses the rest."""

    class RestrictedFetcher(weasyprint.URLFetcher):
        def __init__(self, roots: list[Path]):
            super().__init__(timeout=5, allowed_protocols=("data", "file"))
            self.roots = roots

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file" and parts.netloc in ("", "localhost"):
                path = Path(url2pathname(unquote(parts.path))).resolve()
                if path.is_file() and any(path.is_relative_to(root) for root in self.roots):
                    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return weasyprint.urls.URLFetcherResponse(
                        path.as_uri(),
                        body=path.read_bytes(),
                        headers={"Content-Type": content_type},
                    )
            log.warning("PDF resource refused: %s", url[:200])
            raise ResourceRefused(f"PDF templates may only use the app's own files, not {url}")

    return RestrictedFetcher
