from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Every email the marketplace sends: stored once per idempotency key, sent by a Celery job."""

    name = "marketplace.notifications"
    label = "notifications"
    verbose_name = "Notifications"
