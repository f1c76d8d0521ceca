from django.urls import path

from communities import views

app_name = "communities"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("communities/", views.community_list, name="list"),
    path("communities/<slug:slug>/", views.community_detail, name="detail"),
    path("display/", views.set_display, name="display"),
    path("accounts/", views.account, name="account"),
    path("accounts/changes/", views.changes, name="changes"),
]
