from django.apps import AppConfig


class SellersConfig(AppConfig):
    """Onboarding and KYC, shops, staff, addresses, payout accounts, settlement, payouts."""

    name = "sellers"

    def ready(self):
        # Registers the rule "only the seller's owner may finish its payout onboarding" (setup)
        # and the Stripe `account.updated` handler (webhooks) with the payments core, which sits
        # below sellers and cannot look sellers up itself.
        from sellers import webhooks  # noqa: F401
        from sellers.services import setup  # noqa: F401
