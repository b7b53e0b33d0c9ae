"""The endpoint Stripe sends events to: /webhooks/stripe/.

It verifies, stores and answers; the work happens in a task after commit, so Stripe gets its
200 quickly whatever the handlers cost (Stripe waits at most a few seconds, then retries).
"""

import logging

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace.payments.webhook_services import stripe_webhook_event_record
from marketplace.payments.webhooks import WebhookRejected, webhook_event_verify

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe cannot send a CSRF token; the signature proves where the request came from.
@require_POST
def stripe_webhook(request):
    try:
        # The raw body: the signature covers the exact bytes Stripe sent, not a re-encoding.
        payload = webhook_event_verify(
            payload=request.body,
            signature_header=request.headers.get("Stripe-Signature"),
            secret=settings.STRIPE_WEBHOOK_SECRET,
        )
    except WebhookRejected as error:
        logger.warning("Stripe webhook rejected: %s", error.message)
        return JsonResponse({"error": error.message}, status=400)
    _event, created = stripe_webhook_event_record(payload=payload)
    return JsonResponse({"received": True, "duplicate": not created})
