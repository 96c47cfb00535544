"""Server-side SVG charts: geometry computed here, drawn by quizzes/_bar_chart.html.

No chart library and no inline styles (the Content-Security-Policy forbids them): colours
come from CSS classes, sizes from SVG attributes.
"""

from dataclasses import dataclass, field


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    value: float | None
    label: str  # the value as text, drawn after the bar
    label_x: float
    label_y: float


@dataclass
class Row:
    label: str
    label_y: float
    bars: list[Bar]


@dataclass
class Chart:
    title: str
    width: int
    height: int
    plot_x: float
    plot_width: float
    rows: list[Row]
    ticks: list[tuple[float, str]]
    legend: list[tuple[str, str, float]]  # (css class, label, x)
    axis_y: float
    series: list[str] = field(default_factory=list)


def grouped_bars(
    title: str,
    groups: list[tuple[str, list[float | None]]],
    series: list[str],
    *,
    maximum: float = 100.0,
    unit: str = "%",
    width: int = 720,
    label_width: int = 220,
    bar_height: int = 14,
) -> Chart:
    """Horizontal bars, one group per row (a learner, a competence), one bar per series."""
    gap, legend_height, axis_height = 10, 28, 24
    plot_x = label_width + 8
    plot_width = width - plot_x - 56
    group_height = bar_height * len(series) + gap
    rows = []
    y = legend_height
    for label, values in groups:
        bars = []
        for index, value in enumerate(values):
            bar_y = y + index * bar_height
            length = 0.0 if value is None else max(0.0, min(value, maximum)) / maximum * plot_width
            text = "–" if value is None else f"{value:.0f}{unit}"
            bars.append(
                Bar(
                    x=plot_x,
                    y=bar_y + 1,
                    width=round(length, 2),
                    height=bar_height - 2,
                    css=f"series-{index + 1}",
                    value=value,
                    label=text,
                    label_x=round(plot_x + length + 4, 2),
                    label_y=bar_y + bar_height - 3,
                )
            )
        rows.append(Row(label=label, label_y=y + (bar_height * len(series)) / 2 + 4, bars=bars))
        y += group_height
    ticks = [
        (round(plot_x + plot_width * step / 4, 2), f"{maximum * step / 4:.0f}{unit}")
        for step in range(5)
    ]
    legend = [(f"series-{i + 1}", name, plot_x + i * 160) for i, name in enumerate(series)]
    return Chart(
        title=title,
        width=width,
        height=int(y + axis_height),
        plot_x=plot_x,
        plot_width=plot_width,
        rows=rows,
        ticks=ticks,
        legend=legend,
        axis_y=y,
        series=series,
    )
