"""Text as we store it."""

from django.db import models


def unix_newlines(sender, instance, **kwargs) -> None:
    """pre_save receiver: store line breaks as "\\n". Browsers submit textareas with "\\r\\n", so
    without this every save of a form would rewrite each multi-line field (a menu's dishes, a
    description) with nothing changed, and the audit trail would list it as a change."""
    for field in instance._meta.concrete_fields:
        if isinstance(field, models.TextField):
            value = getattr(instance, field.attname)
            if isinstance(value, str) and "\r" in value:
                setattr(instance, field.attname, value.replace("\r\n", "\n").replace("\r", "\n"))
