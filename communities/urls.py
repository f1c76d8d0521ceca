from django.urls import path

from communities import views

# The home page and a community's page compose other apps (facilities, courses, coverage): they
# are portal.pages.home and .community_detail, added to this namespace by portal/urls.py.
app_name = "communities"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("communities/", views.community_list, name="list"),
    path("display/", views.set_display, name="display"),
    path("accounts/changes/", views.changes, name="changes"),
]
