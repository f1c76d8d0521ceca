from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FacilitiesConfig(AppConfig):
    name = "facilities"
    verbose_name = _("Facilities")

    def ready(self) -> None:
        # Cached fragments (portal.caching) showing facilities move on with every edit.
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from portal import caching

        for name in (
            "Category",
            "Facility",
            "OpeningHours",
            "HoursException",
            "Meal",
            "SeniorPrice",
            "FacilityPhoto",
            "IdleRoom",
        ):
            model = self.get_model(name)
            for signal in (post_save, post_delete):
                uid = f"bump.{name}.{signal}"
                signal.connect(caching.bump_content, sender=model, dispatch_uid=uid)

        from facilities import photos

        post_delete.connect(
            photos.remove_files,
            sender=self.get_model("FacilityPhoto"),
            dispatch_uid="facilities.photos.remove_files",
        )
        m2m_changed.connect(
            caching.bump_content,
            sender=self.get_model("Facility").other_categories.through,
            dispatch_uid="bump.Facility.other_categories",
        )

        # The back office's point forms show a community's map with its streets and facilities.
        from communities import points
        from facilities import point_map

        points.draw_maps_with(point_map.draw)
