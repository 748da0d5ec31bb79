"""Cells as fields: read a form's grid of cells (comb fields, tables, boxed fields) one cell at a time.

    >>> from digitrec import Recognizer, read_cells
    >>> reading = read_cells(Recognizer.load(), "postcode.png")
    >>> reading.fields[0].value      # a comb field's cells joined
    '34748'
    >>> [(c.row, c.column, c.value) for c in reading.cells][:2]
    [(0, 0, '3'), (0, 1, '4')]

The rulings `digitrec.image.rulings` finds make the grid: between two horizontal
lines, the vertical lines that cross both bound the cells of one row. Each
cell's ink (rulings removed, an inset of the line's thickness left out) is
read by the line model as `digitrec read` reads a line; a cell with no ink is
an empty value, not a refusal. Cells that share lines form one grid; a grid
of one row of about square cells is a comb field, whose value is its cells'
values joined ("34748"); any other grid is a table, one value per cell.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..image.rulings import Rulings, Segment
from ..io.decode import ImageSource

if TYPE_CHECKING:
    from .digits import Prediction, Recognizer
    from .lines import LineReader

MIN_CELL = 10  # px at read size: a cell narrower or lower than this is two lines drawn close, not a cell
SAME_LINE = 4  # px: lines this close are one (a thick line found twice, a slanted one)
COMB_ASPECT = 1.6  # a cell at most this much wider than tall holds one character: a row of them is a comb field
INSET = 2  # px kept clear inside a cell's lines beyond their thickness (their blurred edge)


@dataclass
class Cell:
    """One cell: `grid`, `row`, `column` count from 0; `box` (left, top, right, bottom) in the file's pixels.

    `value` is "" for an empty cell; `reason` says why a cell with ink was
    refused (its value is then "" too).
    """

    grid: int
    row: int
    column: int
    box: tuple[int, int, int, int]
    value: str = ""
    confidence: float = 1.0
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "grid": self.grid, "row": self.row, "column": self.column, "box": list(self.box),
            "value": self.value, "confidence": round(self.confidence, 6), "reason": self.reason,
        }  # fmt: skip


@dataclass
class Field:
    """A grid's reading as fields: a comb field's `value` joins its cells; a table has one value per cell."""

    grid: int
    kind: str  # "box" (one cell), "comb" or "table"
    rows: int
    columns: int
    value: str | None  # the joined value of a comb field; None for a table

    def as_dict(self) -> dict[str, Any]:
        return {"grid": self.grid, "kind": self.kind, "rows": self.rows, "columns": self.columns, "value": self.value}


@dataclass
class CellReading:
    """The cells read in one image, grid by grid, row by row, left to right; `text` is what lies outside any grid."""

    path: str | None
    cells: list[Cell] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    text: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "fields": [f.as_dict() for f in self.fields],
            "cells": [c.as_dict() for c in self.cells], "text": self.text,
        }  # fmt: skip

    def rows(self) -> list[dict[str, Any]]:
        """One row per cell (path, grid, kind, field, row, column, box, value, confidence); a picture without cells
        gives one row whose value is the whole picture's reading."""
        kinds = {f.grid: f for f in self.fields}
        if not self.cells:
            return [{"path": self.path, "grid": None, "kind": None, "field": None, "row": None, "column": None,
                     "box": None, "value": self.text, "confidence": None}]  # fmt: skip
        return [
            {"path": self.path, "kind": kinds[c.grid].kind, "field": kinds[c.grid].value,
             **{k: v for k, v in c.as_dict().items() if k != "reason"}}
            for c in self.cells
        ]  # fmt: skip


# ---------------------------------------------------------------- finding the grid


def _merge(values: list[float]) -> list[float]:
    """Sorted positions with those within SAME_LINE of the previous one merged (their mean)."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= SAME_LINE:
            out[-1].append(v)
        else:
            out.append([v])
    return [float(np.mean(g)) for g in out]


def _covers(lines: list[Segment], pos: float, a: float, b: float) -> bool:
    """True when a line of `lines` lies at `pos` and runs from `a` to `b` (within SAME_LINE)."""
    for s in lines:
        lo, hi = (s.x0, s.x1) if s.axis == 0 else (s.y0, s.y1)
        if abs(s.position - pos) <= SAME_LINE + s.thickness / 2 and lo <= a + SAME_LINE and hi >= b - SAME_LINE:
            return True
    return False


def _grid_lines(lines: list[Segment], across: list[Segment]) -> list[Segment]:
    """The `lines` that two or more of the `across` lines meet or cross: a grid's lines, not a stray stroke taken
    for a ruling (a 1 beside an 8 meets the 8's top, and nothing else)."""
    out = []
    for s in lines:
        lo, hi = (s.x0, s.x1) if s.axis == 0 else (s.y0, s.y1)
        meets = 0
        for p in across:
            plo, phi = (p.x0, p.x1) if p.axis == 0 else (p.y0, p.y1)
            reach = SAME_LINE + (s.thickness + p.thickness) / 2
            meets += lo - reach <= p.position <= hi + reach and plo - reach <= s.position <= phi + reach
        if meets >= 2:
            out.append(s)
    return out


def skew(rulings: Rulings) -> float:
    """The picture's tilt as rows per column: the median slope of its horizontal rulings (0 without any)."""
    return float(np.median([s.slope for s in rulings.horizontal])) if rulings.horizontal else 0.0


def _level(s: Segment, k: float) -> Segment:
    """`s` as it lies once the picture is turned level by the small tilt `k` (x' = x + k y, y' = y - k x)."""
    t = s.thickness / 2
    if s.axis == 0:
        y_left = s.y0 + t if s.slope >= 0 else s.y1 - t
        ends = [(s.x0, y_left), (s.x1, y_left + s.slope * (s.x1 - s.x0))]
    else:
        x_top = s.x0 + t if s.slope >= 0 else s.x1 - t
        ends = [(x_top, s.y0), (x_top + s.slope * (s.y1 - s.y0), s.y1)]
    turned = [(x + k * y, y - k * x) for x, y in ends]
    xs, ys = [p[0] for p in turned], [p[1] for p in turned]
    pad = (0.0, t) if s.axis == 0 else (t, 0.0)
    box = (min(xs) - pad[0], min(ys) - pad[1], max(xs) + pad[0], max(ys) + pad[1])
    return Segment(s.axis, *(round(v) for v in box), s.thickness)


def unlevel(box: tuple[float, float, float, float], k: float) -> tuple[float, float, float, float]:
    """The largest upright box inside the cell `box` (left, top, right, bottom) of the levelled picture, in the
    picture's own pixels (the inverse of `_level`'s turn, for a small tilt)."""
    left, top, right, bottom = box
    corners = [(x - k * y, y + k * x) for x, y in ((left, top), (right, top), (left, bottom), (right, bottom))]
    (lt, rt, lb, rb) = corners
    return max(lt[0], lb[0]), max(lt[1], rt[1]), min(rt[0], rb[0]), min(lb[1], rb[1])


def find_cells(rulings: Rulings) -> list[tuple[int, int, float, float, float, float]]:
    """Cells of a picture's rulings: (band, column, left, top, right, bottom), in the ink's pixels once the picture
    is turned level by `skew(rulings)` (`unlevel` gives a cell's box in the picture).

    `band` numbers the gaps between horizontal lines that hold cells, top to
    bottom; `column` counts the cells of a band from the left.
    """
    k = skew(rulings)
    flat = Rulings(rulings.mask, [_level(s, k) for s in rulings.segments])
    hs, vs = _grid_lines(flat.horizontal, flat.vertical), _grid_lines(flat.vertical, flat.horizontal)
    ys, xs = _merge([s.position for s in hs]), _merge([s.position for s in vs])
    out = []
    band = 0
    for top, bottom in zip(ys[:-1], ys[1:]):
        if bottom - top < MIN_CELL:
            continue
        walls = [x for x in xs if _covers(vs, x, top, bottom)]
        column = 0
        for left, right in zip(walls[:-1], walls[1:]):
            if right - left >= MIN_CELL and _covers(hs, top, left, right) and _covers(hs, bottom, left, right):
                out.append((band, column, left, top, right, bottom))
                column += 1
        band += column > 0
    return out


def group_grids(cells: list[tuple[int, int, float, float, float, float]]) -> list[list[tuple]]:
    """Cells (as `find_cells` gives them) grouped into grids: cells that share a line, side by side or stacked."""
    parent = list(range(len(cells)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(cells):
        for j in range(i + 1, len(cells)):
            b = cells[j]
            side = a[0] == b[0] and abs(a[4] - b[2]) <= SAME_LINE
            stacked = b[0] == a[0] + 1 and abs(a[5] - b[3]) <= SAME_LINE and min(a[4], b[4]) > max(a[2], b[2])
            if side or stacked:
                parent[root(j)] = root(i)
    groups: dict[int, list[tuple]] = {}
    for i, c in enumerate(cells):
        groups.setdefault(root(i), []).append(c)
    return list(groups.values())


# ---------------------------------------------------------------- reading


def read_cells(
    recognizer: Recognizer, source: ImageSource, name: str | None = None, reject: str | None = None,
    reader: LineReader | None = None, expect: str | None = None, digits_only: bool = False,
) -> CellReading:  # fmt: skip
    """Read each cell of the grids in an image (path, bytes, file object, Pillow image or array).

    A picture without a grid gives no cells and its whole reading as `text`.
    With `expect` (a pattern as `read --expect` takes, e.g. "ddddd") or
    `digits_only`, each cell reads digits only, and a comb field's joined value
    that does not match `expect` is None. Raises BadImage if the image cannot
    be read, ConfigError for a bad pattern.
    """
    from .ctc import DIGITS_ONLY
    from .strings import LINE_MIN_CONFIDENCE, decode_page, expectation, page_of, read_ink

    field_pattern = expectation(expect, digits_only)
    cell_pattern = DIGITS_ONLY if field_pattern is not None else None
    path = name or (str(source) if isinstance(source, (str, os.PathLike)) else None)
    gray, size = decode_page(source, name)
    page = page_of(gray, size)
    if not find_cells(page.rulings):
        # NOTE: a photographed form's light rulings break into dashes; look again along rows and columns
        second = page_of(gray, size, along_lines=True)
        page = second if find_cells(second.rulings) else page
    reader = reader or recognizer.line_reader()
    floor = LINE_MIN_CONFIDENCE[reject or recognizer.reject]
    out = CellReading(path)
    k = skew(page.rulings)
    inset = INSET + int(np.ceil(max((s.thickness for s in page.rulings.segments), default=1) / 2))
    for g, grid in enumerate(group_grids(find_cells(page.rulings))):
        rows = {c[0] for c in grid}
        comb = len(rows) == 1 and len(grid) > 1 and max((c[4] - c[2]) / (c[5] - c[3]) for c in grid) <= COMB_ASPECT
        cells, inks = [], []
        for band, column, *box in grid:
            left, top, right, bottom = unlevel(tuple(box), k)
            cells.append(
                Cell(g, band - min(rows), column, _file_box((left, top, right, bottom), page.scale, page.size))
            )
            y0, y1 = max(0, int(top) + inset), int(np.ceil(bottom)) - inset
            x0, x1 = max(0, int(left) + inset), int(np.ceil(right)) - inset
            inks.append(page.ink[y0:y1, x0:x1])
        singles = _single_digits(recognizer, inks, reject) if comb else [None] * len(inks)
        for cell, ink, single in zip(cells, inks, singles):
            cell.value, cell.confidence, cell.reason = _cell_reading(
                single, lambda ink=ink: read_ink(reader, ink, floor, cell_pattern, recognizer=recognizer)
            )
        out.cells += cells
        value = "".join(c.value for c in cells) if comb or len(grid) == 1 else None
        if any(c.reason for c in cells) or (
            value is not None and field_pattern not in (None, DIGITS_ONLY) and not field_pattern.matches(value)
        ):
            value = None  # NOTE: a cell refused, or read but not the expected form: no guess at the whole
        kind = "box" if len(grid) == 1 else "comb" if comb else "table"
        out.fields.append(Field(g, kind, len(rows), max(c.column for c in cells) + 1, value))
    if not out.cells:
        out.text = read_ink(reader, page.ink, floor, field_pattern, recognizer=recognizer)[0]
    return out


def _single_digits(recognizer: Recognizer, inks: list[np.ndarray], reject: str | None) -> list[Prediction | None]:
    """The digit model's answer for each cell's float32 (h, w) ink, in one batch; None for a cell with no pixels.

    A comb field holds one character per cell: what the digit model reads best, and more surely than the line
    model, which answers a thick or blotted digit alone in its cell with no character at all.
    """
    from ..image.preprocess import prepare_ink

    at = [i for i, ink in enumerate(inks) if min(ink.shape) > 0]
    found = recognizer.predict_items([(None, prepare_ink(inks[i]), None) for i in at], reject)
    out: list[Prediction | None] = [None] * len(inks)
    for i, pred in zip(at, found):
        out[i] = pred
    return out


def _cell_reading(single: Prediction | None, line: Callable[[], tuple[str, float, str | None]]) -> tuple:
    """(value, confidence, reason) of a cell from the digit model's answer (`single`, comb cells) and the line
    model's reading `line()`: the surer of the two when both read one digit, else whichever answers."""
    if single is not None and single.error is None and single.probabilities is None:  # blank: an empty cell
        return "", 1.0, None
    text, confidence, reason = line()
    if single is None or single.digit is None:
        return text, confidence, reason
    # NOTE: each model misses blots the other reads: a thick 5 is no character to the line model, a 0 filled
    # to a pinhole loses its shape in the digit model's stroke thinning. Their confidences are both calibrated.
    if reason or len(text) != 1 or single.confidence >= confidence:
        return str(single.digit), float(single.confidence), None
    return text, confidence, reason


def _file_box(box: tuple[float, float, float, float], scale: tuple[float, float], size: tuple[int, int]) -> tuple:
    left, top, right, bottom = box
    sx, sy = scale
    return (
        max(0, int(left * sx)), max(0, int(top * sy)), min(size[0], int(np.ceil(right * sx))),
        min(size[1], int(np.ceil(bottom * sy))),
    )  # fmt: skip


__all__ = ["Cell", "CellReading", "Field", "find_cells", "group_grids", "read_cells", "skew", "unlevel"]
