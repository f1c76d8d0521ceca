"""The report tests use the facility tests' places (tests/facilities/conftest.py)."""

from tests.facilities.conftest import canteen_a, clock, far_compound  # noqa: F401
