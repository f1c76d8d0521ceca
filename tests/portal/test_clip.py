"""Cutting map segments to the canvas."""

import pytest

from portal.lib.clip import clip, path


@pytest.mark.parametrize(
    "segment, expected",
    [
        ((10, 10, 20, 20), (10, 10, 20, 20)),  # inside: unchanged
        ((-10, 50, 110, 50), (0, 50, 100, 50)),  # across: cut at both edges
        ((50, -50, 50, 20), (50, 0, 50, 20)),  # in from the top
        ((90, 90, 130, 130), (90, 90, 100, 100)),  # out at the corner
        ((-10, -10, -5, 50), None),  # beside the canvas
        ((110, 0, 110, 100), None),  # parallel to an edge, outside it
        ((0, 0, 0, 0), (0, 0, 0, 0)),  # a point on the edge
    ],
)
def test_clip(segment, expected):
    got = clip(segment, 100, 100)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_path_draws_only_what_is_on_the_canvas():
    assert path([(-10, 50, 110, 50), (200, 200, 300, 300)], 100, 100) == "M0 50L100 50"


def test_the_path_of_many_segments_is_each_segment_clipped():
    """``path`` clips every segment at once: the same as ``clip`` one by one, for segments
    inside, across, along and outside the canvas."""
    import random

    rng = random.Random(7)
    segments = [
        tuple(rng.choice([rng.uniform(-50, 250), 0.0, 100.0, 200.0, -10.0]) for _ in range(4))
        for _ in range(2000)
    ]
    expected = "".join(
        "M{:.0f} {:.0f}L{:.0f} {:.0f}".format(*inside)
        for inside in (clip(s, 200, 100) for s in segments)
        if inside is not None
    )
    assert path(segments, 200, 100) == expected
    assert path([], 200, 100) == ""
