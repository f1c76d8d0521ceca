from django.apps import AppConfig
from django.db.models.signals import m2m_changed


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        from facilities.models import Facility, IdleRoom
        from reports import report_data

        # The audit trail does not record a facility's further categories: areas holding them
        # are gathered anew.
        m2m_changed.connect(
            report_data.structure_changed,
            sender=Facility.other_categories.through,
            dispatch_uid="report_data.other_categories",
        )
        # Nor the services an idle room could take.
        m2m_changed.connect(
            report_data.structure_changed,
            sender=IdleRoom.services.through,
            dispatch_uid="report_data.idle_room_services",
        )
        # Nor street networks: an import or a removal changes every walk in its district.
        from django.db.models.signals import post_delete, post_save

        from streets.models import StreetNetwork

        for signal in (post_save, post_delete):
            signal.connect(
                report_data.structure_changed,
                sender=StreetNetwork,
                dispatch_uid=f"report_data.streets.{signal}",
            )
