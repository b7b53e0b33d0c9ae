from django.urls import path

from sellers.views import seller_center

app_name = "seller_center"

urlpatterns = [
    path("", seller_center.dashboard, name="dashboard"),
]
