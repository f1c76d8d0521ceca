from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CommunitiesConfig(AppConfig):
    name = "communities"
    verbose_name = _("Places and people")

    def ready(self) -> None:
        from communities.roles import sync_role_groups

        # Runs after each app's migrations, once that app's permissions exist.
        post_migrate.connect(sync_role_groups, dispatch_uid="communities.sync_role_groups")
