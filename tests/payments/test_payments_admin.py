"""Staff see Stripe webhook events and the local gateway's records read-only, and can send failed
events back for another attempt."""

import pytest
from django.urls import reverse

from marketplace.payments import webhook_services
from marketplace.payments.local import LocalGateway
from marketplace.payments.models import StripeWebhookEvent
from marketplace.payments.webhooks import (
    StripeEvent,
    webhook_handler_register,
    webhook_handler_unregister,
)

pytestmark = pytest.mark.django_db

TEST_EVENT = "test.admin"


@pytest.fixture
def flaky_handler():
    state = {"fail": True}

    def handler(event: StripeEvent) -> None:
        if state["fail"]:
            raise RuntimeError("temporarily broken")

    webhook_handler_register(TEST_EVENT)(handler)
    yield state
    webhook_handler_unregister(TEST_EVENT, handler)


@pytest.fixture
def failed_event(fake_stripe, flaky_handler):
    stored, _ = webhook_services.stripe_webhook_event_record(
        payload=fake_stripe.event_build(TEST_EVENT, {"id": "obj_1"})
    )
    with pytest.raises(RuntimeError):
        webhook_services.stripe_webhook_event_process(event_pk=stored.pk)
    return stored


def test_the_event_list_filters_by_status_and_shows_the_error(staff_client, failed_event):
    url = reverse("admin:payments_stripewebhookevent_changelist")

    listing = staff_client.get(url, {"status__exact": "failed"})
    detail = staff_client.get(
        reverse("admin:payments_stripewebhookevent_change", args=[failed_event.pk])
    )

    assert listing.status_code == 200
    assert failed_event.event_id in listing.content.decode()
    assert "temporarily broken" in detail.content.decode()
    assert staff_client.get(reverse("admin:payments_stripewebhookevent_add")).status_code == 403


def test_the_retry_action_processes_a_failed_event_again(
    staff_client, failed_event, flaky_handler, django_capture_on_commit_callbacks
):
    flaky_handler["fail"] = False

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:payments_stripewebhookevent_changelist"),
            {"action": "retry_failed", "_selected_action": [failed_event.pk]},
            follow=True,
        )

    assert "Queued 1 event(s)" in response.content.decode()
    failed_event.refresh_from_db()
    assert failed_event.status == StripeWebhookEvent.Status.PROCESSED


def test_the_local_gateway_records_are_listed(staff_client):
    LocalGateway().payment_create(
        amount_minor=100,
        currency="USD",
        transfer_group="checkout:1",
        idempotency_key="payment:checkout:1",
        payment_method="4242424242424242",
    )

    for name in ("localpayment", "localtransfer", "localrefund", "localtransferreversal"):
        assert staff_client.get(reverse(f"admin:payments_{name}_changelist")).status_code == 200
