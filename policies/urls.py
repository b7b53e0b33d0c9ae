"""Policies' URL group, a `(patterns, namespace)` pair mounted at /policies/: the public pages
(views/storefront.py)."""

from django.urls import path

from policies.views import storefront

policy_patterns = (
    [
        path("", storefront.index, name="index"),
        path("<slug:slug>/", storefront.detail, name="detail"),
        path("<slug:slug>/versions/<int:number>/", storefront.version, name="version"),
    ],
    "policies",
)
