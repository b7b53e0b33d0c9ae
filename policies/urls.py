from django.urls import path

from policies import views

app_name = "policies"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/versions/<int:number>/", views.version, name="version"),
]
