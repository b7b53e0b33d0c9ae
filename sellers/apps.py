from django.apps import AppConfig


class SellersConfig(AppConfig):
    """Onboarding and KYC, shops, staff, addresses, payout accounts, settlement, payouts."""

    name = "sellers"
