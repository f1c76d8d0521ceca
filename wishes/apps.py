from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WishesConfig(AppConfig):
    name = "wishes"
    verbose_name = _("Wishes")

    def ready(self) -> None:
        # The wish list is cached for anonymous visitors (portal.caching.public_page): a new
        # wish, a reply or a supporter moves the content version on.
        from django.db.models.signals import post_delete, post_save

        from portal import caching

        for name in ("Wish", "Support"):
            model = self.get_model(name)
            for signal in (post_save, post_delete):
                signal.connect(caching.bump, sender=model, dispatch_uid=f"bump.{name}.{signal}")
