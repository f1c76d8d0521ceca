"""Cutting line segments to a rectangle, for the server-drawn maps: a street that runs off the
canvas is drawn to its edge, so nothing sticks out of the picture (a path's geometry past the
edge would still widen the page at 320 px, clipped or not)."""

import numpy as np

Segment = tuple[float, float, float, float]  # x1, y1, x2, y2


def clip(segment: Segment, width: float, height: float) -> Segment | None:
    """The part of ``segment`` inside 0 ≤ x ≤ ``width``, 0 ≤ y ≤ ``height`` (Liang–Barsky), or
    None when no part is."""
    x1, y1, x2, y2 = segment
    dx, dy = x2 - x1, y2 - y1
    low, high = 0.0, 1.0
    for p, q in ((-dx, x1), (dx, width - x1), (-dy, y1), (dy, height - y1)):
        if p == 0:
            if q < 0:
                return None  # parallel to this edge and outside it
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return None
    return (x1 + low * dx, y1 + low * dy, x1 + high * dx, y1 + high * dy)


def path(segments, width: float, height: float) -> str:
    """SVG path data for the parts of ``segments`` on the canvas, in whole pixels: ``clip`` for
    all of them at once (a city street map has a thousand)."""
    lines = np.asarray(segments, dtype=float).reshape(-1, 4)
    x1, y1, x2, y2 = lines.T
    dx, dy = x2 - x1, y2 - y1
    low, high = np.zeros(len(lines)), np.ones(len(lines))
    keep = np.ones(len(lines), dtype=bool)
    for p, q in ((-dx, x1), (dx, width - x1), (-dy, y1), (dy, height - y1)):
        parallel = p == 0
        keep &= ~(parallel & (q < 0))  # parallel to this edge and outside it
        t = np.divide(q, p, out=np.zeros(len(lines)), where=~parallel)
        low = np.where(~parallel & (p < 0), np.maximum(low, t), low)
        high = np.where(~parallel & (p > 0), np.minimum(high, t), high)
    keep &= low <= high
    x1, y1, dx, dy, low, high = (a[keep] for a in (x1, y1, dx, dy, low, high))
    ends = np.column_stack([x1 + low * dx, y1 + low * dy, x1 + high * dx, y1 + high * dy])
    return "".join("M{:.0f} {:.0f}L{:.0f} {:.0f}".format(*end) for end in ends.tolist())
