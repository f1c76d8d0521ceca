from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _changed(**kwargs) -> None:
    """A network imported or removed: every cached figure and map may walk differently now."""
    from django.db import transaction

    from portal import caching

    transaction.on_commit(caching.bump)


class StreetsConfig(AppConfig):
    name = "streets"
    verbose_name = _("Street networks")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        network = self.get_model("StreetNetwork")
        for signal in (post_save, post_delete):
            signal.connect(_changed, sender=network, dispatch_uid=f"streets.changed.{signal}")
