from django.urls import path

from affiliates.views import creator_center

app_name = "creator_center"

urlpatterns = [
    path("", creator_center.dashboard, name="dashboard"),
]
