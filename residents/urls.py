"""Residents' own account pages: registration, the privacy notice, their data (residents.views)."""

app_name = "residents"

urlpatterns = []
