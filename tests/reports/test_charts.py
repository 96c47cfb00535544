"""Server-side SVG charts: well-formed, escaped, accessible, deterministic, numbers as text."""

from xml.etree import ElementTree

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from markupsafe import Markup

from app import charts
from app.extensions import db
from app.places.models import Municipality

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert('x')</script> & “Zveçan”"


def parse(svg: Markup) -> ElementTree.Element:
    assert isinstance(svg, Markup)
    return ElementTree.fromstring(str(svg))  # noqa: S314 - our own output, parsed to check it


def texts(root: ElementTree.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def every_chart(label: str = "Prishtinë") -> dict[str, Markup]:
    return {
        "bar": charts.bar_chart([(label, 12), ("Gjakovë", None)], title=label),
        "progress": charts.progress_chart([(label, 45, 60)], title=label),
        "stacked": charts.stacked_bar([(label, 27), ("Male", 19)], title=label),
        "grid": charts.municipality_grid({"prishtine": 21}, title=label),
    }


@pytest.mark.parametrize("kind", ["bar", "progress", "stacked", "grid"])
def test_chart_is_accessible_scalable_svg_without_css_or_script(kind):
    svg = every_chart()[kind]
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox").startswith("0 0 ")
    assert root.get("font-family") == "sans-serif"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "Prishtinë"
    assert desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    # WeasyPrint and the Content-Security-Policy: no styles, variables, scripts or HTML islands.
    for forbidden in ("style=", "var(", "<script", "foreignObject", "@font-face", "url("):
        assert forbidden not in svg


@pytest.mark.parametrize("kind", ["bar", "progress", "stacked", "grid"])
def test_chart_escapes_labels(kind):
    svg = every_chart(EVIL)[kind]
    root = parse(svg)
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))
    assert "&lt;script&gt;" in svg
    assert root.find(f"{SVG}title").text == EVIL


def test_chart_same_input_gives_same_bytes_and_distinct_ids():
    assert every_chart() == every_chart()
    first = parse(charts.bar_chart([("A", 1)], title="One")).find(f"{SVG}title").get("id")
    second = parse(charts.bar_chart([("A", 1)], title="Two")).find(f"{SVG}title").get("id")
    assert first != second


def test_bar_chart_prints_values_and_shows_none_as_dash_without_bar():
    root = parse(charts.bar_chart([("Female", 1234.5), ("Male", None), ("Other", 0)], title="T"))
    shown = texts(root)
    assert "1,234.5" in shown and "0" in shown and "–" in shown
    bars = [r for r in root.iter(f"{SVG}rect")]
    assert len(bars) == 2  # none for the missing value
    assert "Male: –" in root.find(f"{SVG}desc").text


def test_bar_chart_formats_with_the_current_locale_and_unit():
    with force_locale("sq"):
        root = parse(charts.bar_chart([("Gratë", 1234.5), ("Burrat", 45.6)], title="T", unit="%"))
    shown = texts(root)
    assert "45,6%" in shown
    assert "1\u00a0234,5%" in shown  # Albanian groups thousands with a no-break space
    with force_locale("sr_Latn"):
        assert "1.234,5" in texts(parse(charts.bar_chart([("Žene", 1234.5)], title="T")))


def test_bar_chart_caps_bars_at_max_value():
    root = parse(charts.bar_chart([("A", 150), ("B", 50)], title="T", max_value=100))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[0] == 2 * widths[1]
    assert "150" in texts(root)


def test_bar_chart_without_items_says_no_data():
    root = parse(charts.bar_chart([], title="Empty"))
    assert "No data" in texts(root)


def test_format_value_without_app_context_falls_back_to_plain(monkeypatch):
    monkeypatch.setattr(charts, "has_app_context", lambda: False)
    assert charts.format_value(1234.5) == "1234.5"
    assert charts.format_value(12.0, "%") == "12%"
    assert charts.format_value(3, "h") == "3 h"


def test_progress_chart_prints_actual_over_target_and_share():
    rows = [("1.1 Trained", 45, 60), ("1.2 Above", 82.5, 80), ("1.3 No target", 12, None)]
    rows.append(("1.4 No value", None, 30))
    root = parse(charts.progress_chart(rows, title="Progress"))
    shown = texts(root)
    assert "45 / 60 (75%)" in shown
    assert "82.5 / 80 (103.1%)" in shown
    assert "12" in shown and "– / 30" in shown
    assert "Actual" in shown and "Target" in shown


def test_progress_chart_scales_each_row_to_its_own_target():
    root = parse(charts.progress_chart([("Count", 50, 100), ("Share", 40, 80)], title="T"))
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == charts.BAR]
    assert bars[0].get("width") == bars[1].get("width")  # both halfway to target


def test_stacked_bar_shows_shares_in_legend_and_handles_zero_total():
    root = parse(
        charts.stacked_bar([("Female", 27), ("Male", 19), ("Not disclosed", 2)], title="T")
    )
    shown = texts(root)
    assert "Female: 27 (56.2%)" in shown
    assert "Not disclosed: 2 (4.2%)" in shown
    empty = parse(charts.stacked_bar([("Female", 0), ("Male", 0)], title="T"))
    assert "No data" in texts(empty)
    assert "Female: 0" in texts(empty)


def test_kosovo_layout_matches_the_seeded_municipalities():
    layout = charts.kosovo_layout("en")
    regions = [block for block in layout if block]
    codes = [code for _region, members in regions for code, _name in members]
    assert len(regions) == 7
    assert len(codes) == 38
    seeded = set(db.session.scalars(sa.select(Municipality.code)))
    assert set(codes) == seeded


def test_kosovo_layout_names_follow_the_locale():
    names = {
        locale: {
            code: name for block in charts.kosovo_layout(locale) if block for code, name in block[1]
        }
        for locale in ("sq", "sr_Latn", "en")
    }
    assert names["sq"]["gracanice"] == "Graçanicë"
    assert names["sr_Latn"]["gracanice"] == "Gračanica"
    assert names["sr_Latn"]["gjakove"] == "Đakovica"
    with force_locale("sr_Latn"):
        assert "Leposavić" in charts.municipality_grid({}, title="T")


def test_municipality_grid_draws_every_municipality_with_its_value():
    values = {"prishtine": 21, "gjakove": 12, "zvecan": None, "not-a-code": 99}
    with force_locale("sq"):
        root = parse(charts.municipality_grid(values, title="Të trajnuar", unit=""))
    tiles = [g for g in root.iter(f"{SVG}g") if g.find(f"{SVG}title") is not None]
    assert len(tiles) == 38
    labels = {g.find(f"{SVG}title").text for g in tiles}
    assert "Prishtinë: 21" in labels and "Gjakovë: 12" in labels and "Zveçan: –" in labels
    shown = texts(root)
    assert "21" in shown and "99" not in shown
    dashed = [g for g in tiles if g.find(f"{SVG}rect").get("stroke-dasharray")]
    assert len(dashed) == 36  # no data: white, dashed, "–"


def test_municipality_grid_shades_on_a_sequential_scale_with_a_legend():
    values = {"prishtine": 0, "podujeve": 20, "gjakove": 39}
    root = parse(charts.municipality_grid(values, title="T"))
    fill = {
        g.find(f"{SVG}title").text.split(":")[0]: g.find(f"{SVG}rect").get("fill")
        for g in root.iter(f"{SVG}g")
        if g.find(f"{SVG}title") is not None
    }
    assert fill["Pristina"] == charts.SCALE[0]
    assert fill["Gjakova"] == charts.SCALE[-1]
    assert fill["Pristina"] != fill["Podujevo"] != fill["Gjakova"]
    shown = texts(root)
    assert "0–7" in shown and "32–39" in shown and "No data" in shown
