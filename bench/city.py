"""What the city-scale benches share: the generated city they measure (made once, at the size
they assume) and a timer."""

import statistics
import time

from django.core.management import call_command

from communities.models import District, ResidentialCompound
from facilities.management.commands.generate_city import DISTRICT_CODE

COMPOUNDS, FACILITIES = 20_000, 50_000


def timed(fn, repeats: int = 1):
    """(median seconds, last result)."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def ensure_city() -> District:
    """The generated city's district, generating it first unless it is there at full size."""
    district = District.objects.filter(code=DISTRICT_CODE).first()
    if (
        district is None
        or ResidentialCompound.objects.filter(community__subdistrict__district=district).count()
        != COMPOUNDS
    ):
        print(f"generating the city ({COMPOUNDS} compounds, {FACILITIES} facilities) …")
        call_command("generate_city", compounds=COMPOUNDS, facilities=FACILITIES)
        district = District.objects.get(code=DISTRICT_CODE)
    return district
