"""Server-side SVG charts for the report page, the PDF donor report and the observatory report.

Each function returns one self-contained <svg> as Markup, built in Python with every label
escaped. Colours, fonts and sizes are presentation attributes — no CSS, no style attributes
(the Content-Security-Policy refuses inline styles), no script, no foreignObject — so browsers
and WeasyPrint draw the same picture. The viewBox and the intrinsic width/height let a page
scale it (`svg.chart { max-width: 100%; height: auto }`). Every number is printed as text, so
no value depends on colour alone, and the same input gives the same bytes: element ids come
from a hash of the input, coordinates are rounded to one decimal.
"""

import csv
import hashlib
import math
from functools import lru_cache

from flask import has_app_context
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.i18n import current_locale
from app.places.services import DATA

FONT = "sans-serif"
INK = "#1a1a1a"  # 17:1 on white
MUTED = "#595959"  # axes, dashes, notes: 7:1 on white
BAR = "#1f5a96"  # 7:1 on white; white text on it 7:1
TRACK = "#e3e3e3"
TARGET = "#a4262c"  # the target marker: 7:1 on white
# Stacked segments: each ≥ 4.5:1 against white and carries white text at ≥ 4.5:1.
SERIES = ("#1f5a96", "#a84a00", "#4d4d4d", "#2e6b30", "#6a3d9a", "#00646b")
# Sequential scale for the municipality grid, light to dark, with the text colour for each.
SCALE = ("#deebf7", "#9ecae1", "#6baed6", "#2171b5", "#08306b")
SCALE_INK = (INK, INK, INK, "#ffffff", "#ffffff")
WIDTH = 640
CHAR = 0.56  # average glyph width of a sans-serif face, in ems, to shorten long labels


def format_value(value: float, unit: str = "") -> str:
    """The number as the current locale writes it (1,234.5 · 1 234,5 · 1.234,5); "%" for percent."""
    if unit == "%":
        if has_app_context():
            return format_percent(value / 100, format="#,##0.#%")
        return f"{_plain(value)}%"
    text = format_decimal(value, format="#,##0.#") if has_app_context() else _plain(value)
    return f"{text} {unit}" if unit else text


def _plain(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _n(number: float) -> str:
    return _plain(round(number, 1))


def _tag(tag: str, text: str | None = None, **attrs) -> str:
    # Attribute names: trailing "_" dropped (class_), other "_" become "-" (text_anchor).
    parts = []
    for name, value in attrs.items():
        shown = escape(value) if isinstance(value, str) else _n(value)
        parts.append(f' {name.rstrip("_").replace("_", "-")}="{shown}"')
    if text is None:
        return f"<{tag}{''.join(parts)}/>"
    return f"<{tag}{''.join(parts)}>{escape(text)}</{tag}>"


def _fit(text: str, width: float, size: float = 12) -> str:
    limit = max(2, int(width / (size * CHAR)))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _svg(kind: str, title: str, desc: str, width: float, height: float, body: list[str], data):
    uid = (
        f"chart-{kind}-" + hashlib.blake2s(repr((title, data)).encode(), digest_size=5).hexdigest()
    )
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}"'
        f' viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}"'
        f' role="img" aria-labelledby="{uid}-title {uid}-desc"'
        f' font-family="{FONT}" font-size="12" fill="{INK}">'
        f'<title id="{uid}-title">{escape(title)}</title><desc id="{uid}-desc">{escape(desc)}</desc>'
    )
    heading = _tag("text", title, x=0, y=16, font_size=14, font_weight="bold")
    return Markup(head + heading + "".join(body) + "</svg>")  # noqa: S704 - every text escaped


def _length(value: float, scale: float, width: float) -> float:
    return width * max(0.0, min(value, scale)) / scale if scale > 0 else 0.0


def _or_dash(value: float | None, unit: str = "") -> str:
    return "–" if value is None else format_value(value, unit)


def bar_chart(
    items: list[tuple[str, float | None]],
    *,
    title: str,
    unit: str = "",
    max_value: float | None = None,
) -> Markup:
    """Horizontal bars with label and value; a None value shows "–" and no bar."""
    label_width, value_width, row, top = 200, 90, 24, 32
    plot_x = label_width + 8
    plot_width = WIDTH - plot_x - value_width
    known = [value for _label, value in items if value is not None]
    scale = max_value if max_value else max([*known, 0])
    body = []
    for index, (label, value) in enumerate(items):
        y = top + index * row
        body.append(
            _tag("text", _fit(label, label_width), x=label_width, y=y + 16, text_anchor="end")
        )
        if value is None:
            body.append(_tag("text", "–", x=plot_x + 6, y=y + 16, fill=MUTED))
            continue
        length = _length(value, scale, plot_width)
        body.append(_tag("rect", x=plot_x, y=y + 4, width=length, height=row - 8, fill=BAR))
        body.append(_tag("text", format_value(value, unit), x=plot_x + length + 6, y=y + 16))
    bottom = top + max(len(items), 1) * row
    body.append(_tag("line", x1=plot_x, y1=top, x2=plot_x, y2=bottom, stroke=MUTED))
    if not items:
        body.append(_tag("text", _("No data"), x=plot_x + 6, y=top + 16, fill=MUTED))
    desc = "; ".join(f"{label}: {_or_dash(value, unit)}" for label, value in items) or _("No data")
    return _svg("bar", title, desc, WIDTH, bottom + 8, body, (items, unit, max_value))


def progress_chart(rows: list[tuple[str, float | None, float | None]], *, title: str) -> Markup:
    """Per row, a bar of the actual value against a marker at the target, and the numbers as
    "actual / target (NN%)". Each row has its own scale (the larger of actual and target), since
    rows mix counts and percentages: the picture shows how far each is from its target."""
    label_width, text_width, row, top = 180, 170, 30, 32
    plot_x = label_width + 8
    plot_width = WIDTH - plot_x - text_width - 8
    body, summaries = [], []
    for index, (label, actual, target) in enumerate(rows):
        y = top + index * row
        scale = max(actual or 0, target or 0)
        body.append(
            _tag("text", _fit(label, label_width), x=label_width, y=y + 19, text_anchor="end")
        )
        for value, colour in ((target, TRACK), (actual, BAR)):
            if value is not None:
                width = _length(value, scale, plot_width)
                body.append(_tag("rect", x=plot_x, y=y + 8, width=width, height=14, fill=colour))
        if target is not None:
            marker = plot_x + _length(target, scale, plot_width)
            body.append(_tag("rect", x=marker - 1, y=y + 3, width=3, height=24, fill=TARGET))
        summary = _progress_text(actual, target)
        summaries.append(f"{label}: {summary}")
        body.append(_tag("text", summary, x=WIDTH - text_width, y=y + 19))
    legend_y = top + max(len(rows), 1) * row + 14
    body += [
        _tag("rect", x=plot_x, y=legend_y - 10, width=14, height=12, fill=BAR),
        _tag("text", _("Actual"), x=plot_x + 20, y=legend_y),
        _tag("rect", x=plot_x + 120, y=legend_y - 13, width=3, height=18, fill=TARGET),
        _tag("text", _("Target"), x=plot_x + 130, y=legend_y),
    ]
    desc = "; ".join(summaries) or _("No data")
    return _svg("progress", title, desc, WIDTH, legend_y + 10, body, rows)


def _progress_text(actual: float | None, target: float | None) -> str:
    if target is None:
        return _or_dash(actual)
    text = f"{_or_dash(actual)} / {format_value(target)}"
    if actual is not None and target > 0:
        text += f" ({format_value(actual / target * 100, '%')})"
    return text


def stacked_bar(segments: list[tuple[str, float]], *, title: str) -> Markup:
    """One bar that adds up to 100%, with a legend giving each part's value and share."""
    top, height = 30, 30
    total = sum(max(value, 0) for _label, value in segments)
    body, legend = [], []
    x = 0.0
    for index, (label, value) in enumerate(segments):
        colour = SERIES[index % len(SERIES)]
        share = max(value, 0) / total * 100 if total else None
        width = WIDTH * share / 100 if share else 0.0
        if width:
            body.append(_tag("rect", x=x, y=top, width=width, height=height, fill=colour))
            # A white seam keeps neighbouring colours apart for readers who cannot tell them.
            body.append(
                _tag("rect", x=x + width - 1, y=top, width=1, height=height, fill="#ffffff")
            )
            if width >= 44:
                text = format_value(share, "%")
                body.append(_tag("text", text, x=x + 6, y=top + 20, fill="#ffffff"))
        x += width
        summary = f"{label}: {format_value(value)}"
        if share is not None:
            summary += f" ({format_value(share, '%')})"
        legend.append((colour, summary))
    if not total:
        body.append(_tag("rect", x=0, y=top, width=WIDTH, height=height, fill=TRACK))
        body.append(_tag("text", _("No data"), x=6, y=top + 20, fill=MUTED))
    y = top + height + 12
    for colour, summary in legend:
        body.append(_tag("rect", x=0, y=y, width=12, height=12, fill=colour))
        body.append(_tag("text", summary, x=18, y=y + 11))
        y += 20
    desc = "; ".join(summary for _colour, summary in legend) or _("No data")
    return _svg("stacked", title, desc, WIDTH, y + 4, body, segments)


Layout = list[tuple[str, list[tuple[str, str]]] | None]
# Regions placed roughly as on the map, three to a row; None leaves a slot (the legend's).
MAP_ORDER = ("peja", "mitrovica", None, "gjakova", "prishtina", "gjilan", "prizren", "ferizaj")
NAME_COLUMN = {"sq": "name_sq", "sr_Latn": "name_sr"}


def kosovo_layout(locale: str | None = None) -> Layout:
    """The 7 regions and their 38 municipalities as (region name, [(code, short name)]), read from
    the files `flask places seed` loads, named in the locale's language."""
    if locale is None:
        locale = current_locale() if has_app_context() else "en"
    return [None if item is None else (item[0], list(item[1])) for item in _layout(locale)]


@lru_cache(maxsize=4)
def _layout(locale: str) -> tuple:
    column = NAME_COLUMN.get(locale, "name_en")
    with (DATA / "regions.csv").open(encoding="utf-8", newline="") as handle:
        regions = {row["code"]: row[column] for row in csv.DictReader(handle)}
    members: dict[str, list[tuple[str, str]]] = {code: [] for code in regions}
    with (DATA / "municipalities.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            members[row["region"]].append((row["code"], row[column]))
    # A region added to the seed files later still shows, after the mapped ones.
    order = [*MAP_ORDER, *(code for code in regions if code not in MAP_ORDER)]
    return tuple(None if code is None else (regions[code], tuple(members[code])) for code in order)


def _classes(known: list[float]) -> list[tuple[float, float]]:
    """Up to five equal classes from 0 to the largest value; whole-number steps for counts."""
    top = max(known, default=0.0)
    if top <= 0:
        return [(0.0, 0.0)]
    whole = all(float(v).is_integer() for v in known)
    step = max(1.0, float(math.ceil(top / 5))) if whole else top / 5
    count = min(5, int(top // step) + 1) if whole else 5
    return [(i * step, (i + 1) * step - (1 if whole else 0)) for i in range(count)]


def _class_of(value: float, classes: list[tuple[float, float]]) -> int:
    for index, (_low, high) in enumerate(classes):
        if value <= high:
            return index
    return len(classes) - 1


def municipality_grid(
    values: dict[str, float | None], *, title: str, unit: str = "", layout: Layout | None = None
) -> Markup:
    """Kosovo's municipalities as tiles grouped by region, shaded on a sequential scale with the
    value printed on each tile; municipalities without a value are white, dashed and show "–".

    values: by municipality code. layout: see kosovo_layout() (the default)."""
    layout = kosovo_layout() if layout is None else layout
    tile_w, tile_h, gap, per_row, head = 112, 40, 4, 2, 20
    block_w = per_row * tile_w + (per_row - 1) * gap
    spacing, top = 16, 30
    known = [v for v in values.values() if v is not None]
    classes = _classes(known)
    body, described = [], []
    legend_slot = None
    y = top
    for start in range(0, len(layout), 3):
        chunk = layout[start : start + 3]
        tallest = max((math.ceil(len(block[1]) / per_row) for block in chunk if block), default=1)
        for column, block in enumerate(chunk):
            x = column * (block_w + spacing)
            if block is None:
                legend_slot = legend_slot or (x, y)
                continue
            region, members = block
            body.append(_tag("text", _fit(region, block_w), x=x, y=y + 14, font_weight="bold"))
            parts = []
            for index, (code, name) in enumerate(members):
                tx = x + (index % per_row) * (tile_w + gap)
                ty = y + head + (index // per_row) * (tile_h + gap)
                value = values.get(code)
                parts.append(f"{name} {_or_dash(value, unit)}")
                body.append(_tile(tx, ty, tile_w, tile_h, name, value, unit, classes))
            described.append(f"{region}: " + ", ".join(parts))
        y += head + tallest * (tile_h + gap) + spacing
    width = 3 * block_w + 2 * spacing
    legend_x, legend_y = legend_slot or (0, y)
    legend, legend_end = _legend(legend_x, legend_y, classes, unit, bool(known))
    height = max(y, legend_end) + 4
    desc = "; ".join(described)
    return _svg("municipalities", title, desc, width, height, body + legend, (values, unit, layout))


def _tile(x, y, width, height, name, value, unit, classes) -> str:
    label = f"{name}: {_or_dash(value, unit)}"
    if value is None:
        box = _tag(
            "rect",
            x=x,
            y=y,
            width=width,
            height=height,
            fill="#ffffff",
            stroke=MUTED,
            stroke_dasharray="4 3",
        )
        ink = MUTED
    else:
        shade = _class_of(value, classes)
        # A solid edge: the lightest shades are faint on white paper.
        box = _tag("rect", x=x, y=y, width=width, height=height, fill=SCALE[shade], stroke=MUTED)
        ink = SCALE_INK[shade]
    return (
        f"<g>{_tag('title', label)}{box}"
        + _tag("text", _fit(name, width - 10, 10), x=x + 5, y=y + 14, font_size=10, fill=ink)
        + _tag("text", _or_dash(value, unit), x=x + 5, y=y + 32, font_weight="bold", fill=ink)
        + "</g>"
    )


def _legend(x, y, classes, unit, any_known) -> tuple[list[str], float]:
    parts = [_tag("text", _("Legend"), x=x, y=y + 14, font_weight="bold")]
    y += 24
    for index, (low, high) in enumerate(classes if any_known else []):
        text = (
            format_value(low, unit)
            if low == high
            else f"{format_value(low)}–{format_value(high, unit)}"
        )
        parts.append(_tag("rect", x=x, y=y, width=16, height=14, fill=SCALE[index], stroke=MUTED))
        parts.append(_tag("text", text, x=x + 22, y=y + 11))
        y += 20
    parts.append(
        _tag(
            "rect",
            x=x,
            y=y,
            width=16,
            height=14,
            fill="#ffffff",
            stroke=MUTED,
            stroke_dasharray="4 3",
        )
    )
    parts.append(_tag("text", _("No data"), x=x + 22, y=y + 11))
    return parts, y + 20
