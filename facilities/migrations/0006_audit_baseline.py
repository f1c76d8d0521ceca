from django.db import migrations

from portal import audit


class Migration(migrations.Migration):
    dependencies = [("facilities", "0005_audit_trail")]

    operations = [
        audit.record_baseline(
            "facilities.Facility",
            "facilities.OpeningHours",
            "facilities.HoursException",
            "facilities.Meal",
            "facilities.SeniorPrice",
            "facilities.FacilityPhoto",
        )
    ]
