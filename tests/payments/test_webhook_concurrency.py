"""Stripe delivers the same event several times, sometimes at once: one row, one processing.
Real concurrency needs real row locks and separate connections, so PostgreSQL only."""

import threading

import pytest
from django.db import connection
from django.test import Client

from marketplace.payments import webhook_services
from marketplace.payments.models import StripeWebhookEvent
from marketplace.payments.webhooks import (
    StripeEvent,
    webhook_handler_register,
    webhook_handler_unregister,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrent row locks need PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]

CONCURRENCY = 5
TEST_EVENT = "test.concurrent"


@pytest.fixture
def calls(fake_stripe):
    seen: list[str] = []
    lock = threading.Lock()

    def handler(event: StripeEvent) -> None:
        with lock:
            seen.append(event.id)

    webhook_handler_register(TEST_EVENT)(handler)
    yield seen
    webhook_handler_unregister(TEST_EVENT, handler)


def run_at_once(work) -> list:
    """Run `work()` in CONCURRENCY threads released together; returns results or exceptions."""
    barrier = threading.Barrier(CONCURRENCY)
    results: list = []

    def worker():
        try:
            barrier.wait()
            results.append(work())
        except Exception as error:
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_five_concurrent_deliveries_store_and_process_the_event_once(fake_stripe, calls):
    event = fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})
    payload, header = fake_stripe.signed_payload(event)

    def deliver():
        response = Client().post(
            "/webhooks/stripe/",
            data=payload,
            content_type="application/json",
            headers={"Stripe-Signature": header},
        )
        return response.status_code

    results = run_at_once(deliver)

    assert results == [200] * CONCURRENCY
    stored = StripeWebhookEvent.objects.get()
    assert stored.status == StripeWebhookEvent.Status.PROCESSED
    assert stored.attempts == 1
    assert calls == [event["id"]]


def test_five_concurrent_runs_of_one_stored_event_process_it_once(fake_stripe, calls):
    stored, _ = webhook_services.stripe_webhook_event_record(
        payload=fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})
    )
    calls.clear()  # recording enqueued a first run on commit; count only the racing ones
    StripeWebhookEvent.objects.filter(pk=stored.pk).update(
        status=StripeWebhookEvent.Status.RECEIVED, attempts=0
    )

    results = run_at_once(
        lambda: webhook_services.stripe_webhook_event_process(event_pk=stored.pk).status
    )

    assert results == [StripeWebhookEvent.Status.PROCESSED] * CONCURRENCY
    stored.refresh_from_db()
    assert stored.attempts == 1
    assert len(calls) == 1
