"""The report tests use the facility tests' places (tests/facilities/conftest.py), and a small
generated city for the tests at scale."""

import pytest
from django.core.management import call_command

from communities.models import District
from facilities.management.commands.generate_city import DISTRICT_CODE
from tests.facilities.conftest import canteen_a, clock, far_compound  # noqa: F401


@pytest.fixture
def generated_city(db) -> District:
    """``generate_city``'s synthetic city, small: 400 compounds in some 50 communities, 1,000
    facilities (some planned or under construction), its street network and gates."""
    call_command("generate_city", compounds=400, facilities=1000, seed=3, verbosity=0)
    return District.objects.get(code=DISTRICT_CODE)
