"""Small-cell suppression for reports marked public.

A cell counting fewer than `min_cell` people (for a percentage: resting on fewer than
`min_cell` answers) could point at someone, so it is hidden. When a breakdown of a count
hides exactly one cell, the total would give it away by subtraction, so the next smallest
cell is hidden too.
"""

from .aggregate import Value
from .models import IndicatorUnit


def suppress(cells: list[tuple[str, Value]], unit: IndicatorUnit, min_cell: int) -> set[str]:
    small = {key for key, value in cells if 0 < value.n < min_cell}
    if unit == IndicatorUnit.COUNT and len(small) == 1:
        others = sorted((value.n, key) for key, value in cells if key not in small and value.n > 0)
        if others:
            small.add(others[0][1])
    return small
