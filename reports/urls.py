"""The officials' coverage reports, under /reports/ (reports.views)."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.overview_page, name="overview"),
    path("matrix/", views.matrix_page, name="matrix"),
    path("gaps/", views.gaps_page, name="gaps"),
    path("sites/", views.sites_page, name="sites"),
    path("communities/<slug:slug>/", views.community_page, name="community"),
    path("export.xlsx", views.export_xlsx, name="export-xlsx"),
    path("export/<slug:table>.csv", views.export_csv, name="export-csv"),
]
