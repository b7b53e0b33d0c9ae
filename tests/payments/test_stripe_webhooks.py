"""Stripe webhook intake at /webhooks/stripe/: the signature is checked on the raw body, an event
is stored once by its id and processed once, failures are recorded and retried."""

import json
import time

import pytest
from django.urls import reverse

from marketplace.payments import webhook_services
from marketplace.payments.models import LocalConnectedAccount, StripeWebhookEvent
from marketplace.payments.tasks import MAX_WEBHOOK_RETRIES, process_stripe_event
from marketplace.payments.webhooks import (
    NO_HANDLER_NOTE,
    StripeEvent,
    webhook_event_dispatch,
    webhook_handler_register,
    webhook_handler_unregister,
    webhook_handlers_for,
)
from tests.fake_stripe.server import webhook_signature

pytestmark = pytest.mark.django_db

URL = "/webhooks/stripe/"
TEST_EVENT = "test.happened"


@pytest.fixture
def handled(fake_stripe):
    """A handler for TEST_EVENT that records the events it saw."""
    seen: list[StripeEvent] = []

    def handler(event: StripeEvent) -> None:
        seen.append(event)

    webhook_handler_register(TEST_EVENT)(handler)
    yield seen
    webhook_handler_unregister(TEST_EVENT, handler)


@pytest.fixture
def failing(fake_stripe):
    """A handler for TEST_EVENT that writes a row, then fails the first `failures["left"]` times."""
    failures = {"left": 1, "calls": 0}

    def handler(event: StripeEvent) -> None:
        failures["calls"] += 1
        LocalConnectedAccount.objects.create(
            external_id=f"acct_written_{failures['calls']}", email="x@example.com", country="US"
        )
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("the order is locked by a migration")

    webhook_handler_register(TEST_EVENT)(handler)
    yield failures
    webhook_handler_unregister(TEST_EVENT, handler)


def deliver(client, fake_stripe, event, *, timestamp=None, secret=None, signature=None):
    payload, header = fake_stripe.signed_payload(event, timestamp=timestamp, secret=secret)
    return client.post(
        URL,
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature if signature is not None else header},
    )


def test_the_url_is_webhooks_stripe():
    assert reverse("stripe_webhook") == URL


def test_a_signed_event_is_stored_processed_and_answered_200(
    client, fake_stripe, handled, django_capture_on_commit_callbacks
):
    event = fake_stripe.event_build(
        TEST_EVENT, {"id": "obj_1", "object": "thing"}, account="acct_1"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, fake_stripe, event)

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    stored = StripeWebhookEvent.objects.get()
    assert (stored.event_id, stored.type, stored.account) == (event["id"], TEST_EVENT, "acct_1")
    assert stored.payload == event
    assert stored.status == StripeWebhookEvent.Status.PROCESSED
    assert stored.attempts == 1 and stored.processed_at is not None
    (seen,) = handled
    assert (seen.id, seen.object, seen.account) == (event["id"], event["data"]["object"], "acct_1")
    assert int(seen.created.timestamp()) == event["created"]


def test_processing_waits_for_the_commit(client, fake_stripe, handled):
    # Without the commit (the test's transaction stays open), the task is not even enqueued.
    deliver(client, fake_stripe, fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"}))

    assert StripeWebhookEvent.objects.get().status == StripeWebhookEvent.Status.RECEIVED
    assert handled == []


def test_a_wrong_signature_is_400_and_stores_nothing(client, fake_stripe):
    event = fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})

    response = deliver(client, fake_stripe, event, secret="whsec_someone_else")

    assert response.status_code == 400
    assert "Invalid signature" in response.json()["error"]
    assert not StripeWebhookEvent.objects.exists()


def test_a_body_changed_after_signing_is_400(client, fake_stripe):
    event = fake_stripe.event_build(TEST_EVENT, {"id": "obj_1", "amount": 100})
    payload, header = fake_stripe.signed_payload(event)

    response = client.post(
        URL,
        data=payload.replace("100", "999"),
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )

    assert response.status_code == 400
    assert not StripeWebhookEvent.objects.exists()


def test_a_missing_signature_is_400(client, fake_stripe):
    event = fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})

    response = client.post(URL, data=json.dumps(event), content_type="application/json")

    assert response.status_code == 400
    assert not StripeWebhookEvent.objects.exists()


def test_a_stale_timestamp_is_400(client, fake_stripe):
    event = fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})

    response = deliver(client, fake_stripe, event, timestamp=int(time.time()) - 301)

    assert response.status_code == 400
    assert "tolerance" in response.json()["error"]
    assert not StripeWebhookEvent.objects.exists()


def test_a_recent_timestamp_within_five_minutes_is_accepted(client, fake_stripe):
    event = fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})

    response = deliver(client, fake_stripe, event, timestamp=int(time.time()) - 250)

    assert response.status_code == 200


def test_no_configured_secret_refuses_everything(client, fake_stripe, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    event = fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})

    response = deliver(client, fake_stripe, event)

    assert response.status_code == 400
    assert not StripeWebhookEvent.objects.exists()


def test_a_signed_body_that_is_not_json_is_400(client, fake_stripe):
    payload = "not json at all"
    header = webhook_signature(payload, fake_stripe.webhook_secret, int(time.time()))

    response = client.post(
        URL, data=payload, content_type="application/json", headers={"Stripe-Signature": header}
    )

    assert response.status_code == 400
    assert response.json() == {"error": "The body is not valid JSON."}


def test_signed_json_that_is_not_an_event_is_400(client, fake_stripe):
    response = deliver(client, fake_stripe, {"hello": "world"})

    assert response.status_code == 400
    assert not StripeWebhookEvent.objects.exists()


def test_only_post_is_allowed(client):
    assert client.get(URL).status_code == 405


def test_a_repeated_delivery_answers_200_and_does_no_work(
    client, fake_stripe, handled, django_capture_on_commit_callbacks
):
    event = fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = deliver(client, fake_stripe, event)
        second = deliver(client, fake_stripe, event)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["duplicate"] is True
    assert len(callbacks) == 1  # only the first delivery enqueued processing
    assert StripeWebhookEvent.objects.count() == 1
    assert len(handled) == 1


def test_an_event_processed_already_is_not_processed_again(fake_stripe, handled):
    stored, _ = webhook_services.stripe_webhook_event_record(
        payload=fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})
    )

    for _ in range(3):
        webhook_services.stripe_webhook_event_process(event_pk=stored.pk)

    assert len(handled) == 1
    stored.refresh_from_db()
    assert stored.attempts == 1


def test_an_event_nobody_handles_is_processed_with_a_note(
    client, fake_stripe, django_capture_on_commit_callbacks
):
    event = fake_stripe.event_build("issuing_card.created", {"id": "ic_1"})

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, fake_stripe, event)

    stored = StripeWebhookEvent.objects.get()
    assert stored.status == StripeWebhookEvent.Status.PROCESSED
    assert stored.note == NO_HANDLER_NOTE


def test_a_failing_handler_is_recorded_and_its_writes_roll_back(fake_stripe, failing):
    stored, _ = webhook_services.stripe_webhook_event_record(
        payload=fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})
    )

    with pytest.raises(RuntimeError):
        webhook_services.stripe_webhook_event_process(event_pk=stored.pk)

    stored.refresh_from_db()
    assert stored.status == StripeWebhookEvent.Status.FAILED
    assert stored.attempts == 1
    assert stored.last_error == "RuntimeError: the order is locked by a migration"
    assert stored.processed_at is None
    assert not LocalConnectedAccount.objects.exists()


@pytest.fixture
def eager_retries(monkeypatch):
    """Let eagerly run tasks retry as a worker would (the test settings propagate the first
    exception instead, which stops an eager retry chain)."""
    monkeypatch.setitem(process_stripe_event.app.conf, "task_eager_propagates", False)


def test_the_task_retries_a_failed_event_until_it_succeeds(fake_stripe, failing, eager_retries):
    failing["left"] = 2
    stored, _ = webhook_services.stripe_webhook_event_record(
        payload=fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})
    )

    process_stripe_event.apply(args=[stored.pk])

    stored.refresh_from_db()
    assert stored.status == StripeWebhookEvent.Status.PROCESSED
    assert stored.attempts == 3
    assert stored.last_error == ""
    # Only the successful run's write survived.
    assert list(LocalConnectedAccount.objects.values_list("external_id", flat=True)) == [
        "acct_written_3"
    ]


def test_the_task_gives_up_after_five_retries_and_leaves_the_event_failed(
    fake_stripe, failing, eager_retries
):
    failing["left"] = 100
    stored, _ = webhook_services.stripe_webhook_event_record(
        payload=fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})
    )

    result = process_stripe_event.apply(args=[stored.pk])

    assert result.failed()
    stored.refresh_from_db()
    assert stored.status == StripeWebhookEvent.Status.FAILED
    assert stored.attempts == 1 + MAX_WEBHOOK_RETRIES
    assert "locked by a migration" in stored.last_error


def test_the_task_is_acked_late_and_retried_with_backoff():
    assert process_stripe_event.acks_late is True
    assert process_stripe_event.max_retries == 5
    assert process_stripe_event.retry_backoff


def test_a_failed_event_can_be_retried(fake_stripe, failing, django_capture_on_commit_callbacks):
    stored, _ = webhook_services.stripe_webhook_event_record(
        payload=fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})
    )
    with pytest.raises(RuntimeError):
        webhook_services.stripe_webhook_event_process(event_pk=stored.pk)

    with django_capture_on_commit_callbacks(execute=True):
        queued = webhook_services.stripe_webhook_events_retry(event_pks=[stored.pk])

    assert queued == 1
    stored.refresh_from_db()
    assert stored.status == StripeWebhookEvent.Status.PROCESSED
    assert stored.attempts == 2


def test_retrying_picks_up_an_event_whose_task_was_lost(
    fake_stripe, handled, django_capture_on_commit_callbacks
):
    # Recorded, but the on-commit enqueue never ran (as when the broker is down).
    stored, _ = webhook_services.stripe_webhook_event_record(
        payload=fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})
    )

    with django_capture_on_commit_callbacks(execute=True):
        queued = webhook_services.stripe_webhook_events_retry(event_pks=[stored.pk])

    assert queued == 1
    assert len(handled) == 1


def test_retrying_skips_processed_events(fake_stripe, handled):
    stored, _ = webhook_services.stripe_webhook_event_record(
        payload=fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})
    )
    webhook_services.stripe_webhook_event_process(event_pk=stored.pk)

    assert webhook_services.stripe_webhook_events_retry(event_pks=[stored.pk]) == 0
    assert len(handled) == 1


def test_a_handler_registered_twice_runs_once(fake_stripe, handled):
    (handler,) = webhook_handlers_for(TEST_EVENT)
    webhook_handler_register(TEST_EVENT)(handler)

    webhook_event_dispatch(StripeEvent.from_payload(fake_stripe.event_build(TEST_EVENT, {})))

    assert len(handled) == 1


def test_every_handler_of_a_type_runs_and_their_notes_are_kept(fake_stripe, handled):
    def noting(event: StripeEvent) -> str:
        return "nothing to do for a test"

    webhook_handler_register(TEST_EVENT)(noting)
    try:
        note = webhook_event_dispatch(
            StripeEvent.from_payload(fake_stripe.event_build(TEST_EVENT, {}))
        )
    finally:
        webhook_handler_unregister(TEST_EVENT, noting)

    assert len(handled) == 1
    assert note == "nothing to do for a test"
