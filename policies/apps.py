from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    """Policy documents and acceptance, listing screening rules, IP complaints, violations."""

    name = "policies"
