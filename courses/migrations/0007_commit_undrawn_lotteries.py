"""A commitment for every lottery class that has none and no draw yet, so that classes already
open keep working. Made now, it is later than their registration opened: the draw page says so."""

import hashlib
import secrets

from django.db import migrations
from django.utils import timezone


def commit_undrawn(apps, schema_editor):
    CourseClass = apps.get_model("courses", "CourseClass")
    DrawCommitment = apps.get_model("courses", "DrawCommitment")
    now = timezone.now()
    undrawn = CourseClass.objects.filter(
        allocation="lottery", draw__isnull=True, commitment__isnull=True
    )
    for pk in undrawn.values_list("pk", flat=True):
        secret = secrets.token_hex(32)
        DrawCommitment.objects.create(
            course_class_id=pk,
            secret=secret,
            digest=hashlib.sha256(secret.encode()).hexdigest(),
            committed_at=now,
        )


class Migration(migrations.Migration):
    dependencies = [("courses", "0006_draw_commitment")]

    operations = [migrations.RunPython(commit_undrawn, migrations.RunPython.noop)]
