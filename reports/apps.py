from django.apps import AppConfig
from django.db.models.signals import m2m_changed


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        from facilities.models import Facility
        from reports import report_data

        # The audit trail does not record a facility's further categories: areas holding them
        # are gathered anew.
        m2m_changed.connect(
            report_data.structure_changed,
            sender=Facility.other_categories.through,
            dispatch_uid="report_data.other_categories",
        )
