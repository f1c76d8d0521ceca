from django.urls import path

from facilities import views

# The facility's own page composes other apps (the classes meeting there): it is
# portal.pages.facility_detail, added to this namespace by portal/urls.py.
app_name = "facilities"

urlpatterns = [
    path("", views.search, name="search"),
    path("<slug:slug>/poster/", views.poster, name="poster"),
    path("<slug:slug>/history/", views.history, name="history"),
]
