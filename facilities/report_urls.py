"""The officials' coverage reports, under /reports/ (facilities.reports)."""

from django.urls import path

from facilities import reports

app_name = "reports"

urlpatterns = [
    path("", reports.overview_page, name="overview"),
    path("matrix/", reports.matrix_page, name="matrix"),
    path("gaps/", reports.gaps_page, name="gaps"),
    path("sites/", reports.sites_page, name="sites"),
    path("communities/<slug:slug>/", reports.community_page, name="community"),
    path("export.xlsx", reports.export_xlsx, name="export-xlsx"),
    path("export/<slug:table>.csv", reports.export_csv, name="export-csv"),
]
