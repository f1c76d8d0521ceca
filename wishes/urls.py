"""Residents' wishes (需求征集), under /wishes/ (wishes.views)."""

app_name = "wishes"

urlpatterns = []
