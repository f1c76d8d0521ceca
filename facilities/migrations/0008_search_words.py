"""The finder's search words (facilities.wording) and their text-search index."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models


def fill(apps, schema_editor):
    """Make the search words of every facility there is, a thousand at a time."""
    from facilities import wording

    Facility = apps.get_model("facilities", "Facility")
    rows = Facility.objects.order_by("pk").values_list("pk", "name", "address", "operator")
    batch = []
    for pk, name, address, operator in rows.iterator(chunk_size=2000):
        batch.append(Facility(pk=pk, search_tokens=wording.tokens(name, address, operator)))
        if len(batch) == 1000:
            Facility.objects.bulk_update(batch, ["search_tokens"])
            batch = []
    if batch:
        Facility.objects.bulk_update(batch, ["search_tokens"])


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0006_compound_gates"),
        ("facilities", "0007_idle_rooms"),
    ]

    operations = [
        migrations.AddField(
            model_name="facility",
            name="search_tokens",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddField(
            model_name="facility",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.contrib.postgres.search.SearchVector(
                    "search_tokens", config="simple"
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        migrations.AddIndex(
            model_name="facility",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="facilities_facility_search"
            ),
        ),
    ]
