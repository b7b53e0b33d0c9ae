"""Affiliates' URL group, a `(patterns, namespace)` pair mounted at /creator/: the Creator Center."""

from django.urls import path

from affiliates.views import creator_center

creator_center_patterns = (
    [
        path("", creator_center.dashboard, name="dashboard"),
    ],
    "creator_center",
)
