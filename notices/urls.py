"""/accounts/messages/: a person's choice of messages; the SMS provider's push of replies."""

from django.urls import path

from notices import views

app_name = "notices"

urlpatterns = [
    path("accounts/messages/", views.choices, name="choices"),
    path("notices/sms-replies/<str:token>/", views.sms_replies, name="sms-replies"),
]
