from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """The double-entry ledger: every movement of money is a balanced transaction."""

    name = "marketplace.ledger"
    label = "ledger"
    verbose_name = "Ledger"
