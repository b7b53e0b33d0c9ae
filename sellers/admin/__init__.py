"""Admin for sellers: the application review queue, the shop's set-up records, and the staff side
of seller finance (payouts, manual ledger adjustments, reconciliation)."""

from sellers.admin import application, payouts, shop  # noqa: F401  (registers the admin classes)
