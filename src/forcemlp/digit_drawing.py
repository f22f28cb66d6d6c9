"""A drawing made into the 28×28 image an MNIST network expects, the way MNIST itself was made.

    from forcemlp.digit_drawing import mnist_style
    image = mnist_style(ink)       # ink: (H, W) in [0, 1], 1 where the pen went; None if blank

LeCun, Cortes and Burges made MNIST from NIST's black-and-white digits: each digit was scaled
to fit a 20×20 box, keeping its aspect ratio, with anti-aliasing that turned edges into grey
levels, then placed in a 28×28 field so that its centre of mass sat at the field's centre.
:func:`mnist_style` does the same in one step: every pixel of the drawing becomes a small square
``20 / side`` wide (side: the longer side of the ink's bounding box), placed so the centre of
mass lands mid-pixel (14, 14), where MNIST's do, and each output pixel takes the ink its area
covers (area averaging, the anti-aliasing). The draw widget runs the same arithmetic in JavaScript (digits.js), and
the browser test holds the two together.

:func:`digit_strokes` goes the other way, for tests: it thins a real MNIST digit to a
one-pixel skeleton and traces it as pen strokes, which a test then draws on the widget's canvas.
:func:`render_strokes` draws strokes as the canvas does, with a round anti-aliased pen.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .errors import ForceMLPError

IMAGE_SIDE = 28
BOX_SIDE = 20  # MNIST's digits fit a 20×20 box inside the 28×28 field
# Pixel i spans [i, i + 1]. MNIST's digits have their centre of mass on pixel (14, 14) counted
# from 0, that is at (14.5, 14.5) (the mean over its training set; its shifts were whole pixels).
FIELD_CENTRE = 14.5
INK_THRESHOLD = 0.5  # digit_strokes: what counts as ink in an MNIST image scaled to [0, 1]
CANVAS_SIDE = 280  # the draw widget's canvas, in pixels
PEN_WIDTH = 22.0  # its pen: MNIST-thick strokes once the drawing is scaled to 20 pixels
SUPERSAMPLE = 4  # render_strokes draws this much larger, then averages: anti-aliased edges

Stroke = list[tuple[float, float]]


def _overlaps(source_size: int, centre: float, scale: float) -> np.ndarray:
    """(28, source_size): how much of output pixel j source pixel x covers along one axis.

    Source pixel x spans [x, x + 1]; it lands on [(x - centre) s + 14.5, (x + 1 - centre) s + 14.5].
    """
    starts = (np.arange(source_size) - centre) * scale + FIELD_CENTRE
    ends = starts + scale
    outputs = np.arange(IMAGE_SIDE)[:, None]
    return np.clip(np.minimum(ends, outputs + 1) - np.maximum(starts, outputs), 0.0, None)


def mnist_style(ink: np.ndarray) -> np.ndarray | None:
    """The 28×28 float64 image (values in [0, 1]) of a drawing, or None when nothing is drawn.

    ``ink`` is (height, width) with 0 for paper and 1 for full ink (a canvas's alpha / 255).
    """
    ink = np.asarray(ink, dtype=float)
    if ink.ndim != 2 or not np.all(np.isfinite(ink)) or ink.min(initial=0) < 0 or ink.max(
        initial=0
    ) > 1:
        raise ForceMLPError(
            f"a drawing must be a 2-D array of ink values in [0, 1], got shape {ink.shape}."
        )
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    side = max(rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1)
    scale = BOX_SIDE / side
    total = ink.sum()
    centre_y = (ink.sum(axis=1) * (np.arange(ink.shape[0]) + 0.5)).sum() / total
    centre_x = (ink.sum(axis=0) * (np.arange(ink.shape[1]) + 0.5)).sum() / total
    vertical = _overlaps(ink.shape[0], centre_y, scale)
    horizontal = _overlaps(ink.shape[1], centre_x, scale)
    return vertical @ ink @ horizontal.T


NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def _thin(binary: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: peel boundary pixels in two alternating sub-passes until only a
    one-pixel-wide skeleton that keeps the shape's connections is left."""
    skeleton = np.pad(binary.astype(bool), 1)
    changed = True
    while changed:
        changed = False
        for sub_pass in (0, 1):
            ring = [np.roll(skeleton, (-dy, -dx), axis=(0, 1)) for dy, dx in NEIGHBOURS]
            north, east, south, west = ring[0], ring[2], ring[4], ring[6]
            count = sum(neighbour.astype(int) for neighbour in ring)
            transitions = sum(
                (~ring[k] & ring[(k + 1) % 8]).astype(int) for k in range(8)
            )
            if sub_pass == 0:
                clear = ~(north & east & south) & ~(east & south & west)
            else:
                clear = ~(north & east & west) & ~(north & south & west)
            remove = skeleton & (count >= 2) & (count <= 6) & (transitions == 1) & clear
            if remove.any():
                skeleton &= ~remove
                changed = True
    return skeleton[1:-1, 1:-1]


def digit_strokes(image: np.ndarray, cell: float = 10.0) -> list[Stroke]:
    """Pen strokes that trace a digit's skeleton, in canvas coordinates (x, y).

    ``image`` is an MNIST image (28×28, uint8 or [0, 1]); pixel (row, column) becomes the
    point ((column + 0.5) cell, (row + 0.5) cell). Each stroke is a polyline walked along
    neighbouring skeleton pixels, every link used once; a lone pixel is a one-point stroke.
    """
    image = np.asarray(image, dtype=float)
    if image.shape != (IMAGE_SIDE, IMAGE_SIDE):
        raise ForceMLPError(f"digit_strokes takes one 28×28 image, got shape {image.shape}.")
    if image.max(initial=0) > 1:
        image = image / 255.0
    skeleton = _thin(image > INK_THRESHOLD)
    pixels = {(int(row), int(column)) for row, column in zip(*np.nonzero(skeleton))}
    links = {pixel: set() for pixel in pixels}
    for row, column in pixels:
        for d_row, d_column in NEIGHBOURS:
            if (row + d_row, column + d_column) in pixels:
                links[(row, column)].add((row + d_row, column + d_column))
    strokes = []
    while pixels:
        with_links = [pixel for pixel in sorted(pixels) if links[pixel]]
        ends = [pixel for pixel in with_links if len(links[pixel]) % 2 == 1]
        start = (ends or with_links or sorted(pixels))[0]
        path, current = [start], start
        while links[current]:
            following = min(links[current])
            links[current].discard(following)
            links[following].discard(current)
            path.append(following)
            current = following
        pixels -= {pixel for pixel in path if not links[pixel]}
        strokes.append([((column + 0.5) * cell, (row + 0.5) * cell) for row, column in path])
    return strokes


def render_strokes(
    strokes: list[Stroke], pen_width: float = PEN_WIDTH, side: int = CANVAS_SIDE
) -> np.ndarray:
    """The ink (side, side) in [0, 1] of pen strokes drawn with a round pen, anti-aliased."""
    picture = Image.new("L", (side * SUPERSAMPLE,) * 2, 0)
    draw = ImageDraw.Draw(picture)
    radius = pen_width * SUPERSAMPLE / 2
    for stroke in strokes:
        points = [(x * SUPERSAMPLE, y * SUPERSAMPLE) for x, y in stroke]
        for x, y in points:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
        if len(points) > 1:
            draw.line(points, fill=255, width=round(2 * radius))
    return np.asarray(picture.resize((side, side), Image.Resampling.BOX), dtype=float) / 255
