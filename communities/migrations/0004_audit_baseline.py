from django.db import migrations

from portal import audit


class Migration(migrations.Migration):
    dependencies = [("communities", "0003_audit_trail")]

    operations = [audit.record_baseline("communities.Community", "communities.ResidentialCompound")]
