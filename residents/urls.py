"""Residents' own account pages: registration, the privacy notice, their password, their data
(residents.views)."""

from django.urls import path

from residents import views

app_name = "residents"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("privacy/", views.privacy_notice, name="privacy"),
    path("password/", views.change_password, name="password"),
    path("data/", views.my_data, name="data"),
    path("data.json", views.my_data_json, name="data-json"),
    path("delete/", views.delete_account, name="delete"),
    path("deleted/", views.deleted, name="deleted"),
]
