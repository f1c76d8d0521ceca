"""Loads the default category taxonomy (facilities/taxonomy.py); only adds rows that are missing."""

from django.db import migrations

from facilities.taxonomy import DEFAULTS, add_missing


def add_categories(apps, schema_editor):
    add_missing(apps.get_model("facilities", "Category"))


def remove_categories(apps, schema_editor):
    Category = apps.get_model("facilities", "Category")
    Category.objects.filter(code__in=[row[0] for row in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("facilities", "0001_initial")]

    operations = [migrations.RunPython(add_categories, remove_categories)]
