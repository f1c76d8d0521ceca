from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def supporter_moved(sender, instance, **kwargs) -> None:
    """A signal receiver: the supporter's own parts (wishes.views) are made anew."""
    from portal import caching

    caching.person_moved(instance.user_id)


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
                uid = f"bump.{name}.{signal}"
                signal.connect(caching.bump_content, sender=model, dispatch_uid=uid)

        # A supporter's own part of each support box is kept under their stamp.
        for signal in (post_save, post_delete):
            signal.connect(
                supporter_moved,
                sender=self.get_model("Support"),
                dispatch_uid=f"person.Support.{signal}",
            )
