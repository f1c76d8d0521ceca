from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.translation import gettext_lazy as _


def lease_outlasts_an_attempt(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """An attempt asks the provider (a check) and sends, each within the timeout: a lease any
    shorter would let another worker take the message over from a worker still at it."""
    needed = 2 * settings.NOTICES_TIMEOUT_SECONDS
    if needed >= settings.NOTICES_LEASE_SECONDS:
        return [
            checks.Error(
                f"NOTICES_LEASE_SECONDS ({settings.NOTICES_LEASE_SECONDS}) must be longer than "
                f"two provider calls (2 × NOTICES_TIMEOUT_SECONDS = {needed}).",
                id="notices.E001",
            )
        ]
    return []


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("Messages")

    def ready(self) -> None:
        checks.register(lease_outlasts_an_attempt)
