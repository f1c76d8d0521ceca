"""Cutting line segments to a rectangle, for the server-drawn maps: a street that runs off the
canvas is drawn to its edge, so nothing sticks out of the picture (a path's geometry past the
edge would still widen the page at 320 px, clipped or not)."""

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
    """SVG path data for the parts of ``segments`` on the canvas, in whole pixels."""
    parts = []
    for segment in segments:
        inside = clip(segment, width, height)
        if inside is not None:
            parts.append("M{:.0f} {:.0f}L{:.0f} {:.0f}".format(*inside))
    return "".join(parts)
