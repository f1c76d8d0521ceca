from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CommunitiesConfig(AppConfig):
    name = "communities"
    verbose_name = _("Places and people")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from communities import access, signin
        from communities.roles import sync_role_groups
        from portal import audit

        # The audit trail reads a user's scope through communities.access.
        audit.register_scope(access.trail_scope)

        # Runs after each app's migrations, once that app's permissions exist.
        post_migrate.connect(sync_role_groups, dispatch_uid="communities.sync_role_groups")
        user_login_failed.connect(signin.record_failure, dispatch_uid="communities.signin.fail")
        user_logged_in.connect(signin.clear_failures, dispatch_uid="communities.signin.ok")

        # Cached fragments (portal.caching) showing places move on with every edit.
        from django.db.models.signals import post_delete, post_save

        from portal import caching

        for name in ("District", "Subdistrict", "Community", "ResidentialCompound", "CompoundGate"):
            model = self.get_model(name)
            for signal in (post_save, post_delete):
                signal.connect(caching.bump, sender=model, dispatch_uid=f"bump.{name}.{signal}")

        # A staff member's idle clock starts when they sign in.
        from django.contrib.auth.signals import user_logged_in

        from portal.middleware import StaffIdleTimeoutMiddleware

        user_logged_in.connect(
            StaffIdleTimeoutMiddleware.signed_in, dispatch_uid="portal.staff_signed_in"
        )

        # A password alone leaves the session waiting for the second step where one is needed.
        from communities import two_factor

        user_logged_in.connect(two_factor.signed_in, dispatch_uid="communities.two_factor")

        # A signed-in request reads its account from a snapshot (communities/sessions.py): any
        # change to a user, an authenticator, recovery codes or a role makes every snapshot
        # be read again.
        from django.contrib.auth import get_user_model
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from communities.sessions import bump_accounts

        for model in (get_user_model(), TOTPDevice, StaticDevice, self.get_model("Membership")):
            for signal in (post_save, post_delete):
                signal.connect(
                    bump_accounts, sender=model, dispatch_uid=f"accounts.{model.__name__}.{signal}"
                )

        # Every model's multi-line text is stored with "\n" line breaks, whoever saves it.
        from django.db.models.signals import pre_save

        from portal.lib.text import unix_newlines

        pre_save.connect(unix_newlines, dispatch_uid="portal.unix_newlines")
