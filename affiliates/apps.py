from django.apps import AppConfig


class AffiliatesConfig(AppConfig):
    """Creators, collaborations, links and content, attribution, commissions, live sessions."""

    name = "affiliates"
