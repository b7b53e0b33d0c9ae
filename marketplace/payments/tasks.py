"""Payments background jobs. Thin: ids in, the service re-reads the row and does the work."""

from celery import shared_task

from marketplace.payments import webhook_services

MAX_WEBHOOK_RETRIES = 5


@shared_task(
    acks_late=True,
    autoretry_for=(Exception,),
    max_retries=MAX_WEBHOOK_RETRIES,
    retry_backoff=30,  # 30 s, 60 s, 120 s, ... with jitter, at most 10 minutes
    retry_backoff_max=600,
)
def process_stripe_event(event_pk: int) -> None:
    """Process a stored Stripe event. Safe to run twice or concurrently: the service locks the
    row and skips an event already processed. A failure is recorded on the event and retried; after
    the last retry it stays `failed` for the admin's retry action."""
    webhook_services.stripe_webhook_event_process(event_pk=event_pk)
