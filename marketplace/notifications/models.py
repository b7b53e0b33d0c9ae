from django.conf import settings
from django.db import models


class Notification(models.Model):
    """One message to one person, stored before it is sent (in the transaction of the change it
    tells about) and sent by `notifications.tasks.notification_send`.

    `key` is the idempotency key: one row per key, so a repeated service call or a redelivered job
    never sends twice. `context` holds plain JSON values only (strings, numbers, lists, dicts),
    rendered into `subject_template` and `body_template` when the job runs. `secret_context` holds
    values that must not stay at rest (links carrying a token); it is emptied once sent and never
    shown in the admin.
    """

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=64, db_index=True)
    recipient_email = models.EmailField(max_length=320)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    about = models.CharField(
        max_length=100, blank=True, db_index=True, help_text='What it is about, e.g. "order:42".'
    )
    subject_template = models.CharField(max_length=200)
    body_template = models.CharField(max_length=200)
    context = models.JSONField(default=dict, blank=True)
    secret_context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_user_recent")
        ]

    def __str__(self):
        return f"{self.kind} to {self.recipient_email}"
