"""Admin for sellers: the application review queue, and the shop's set-up records."""

from sellers.admin import application, shop  # noqa: F401  (registers the admin classes)
