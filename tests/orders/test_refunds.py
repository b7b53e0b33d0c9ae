"""Refunds (orders.services.refunds): stored pending with their key, attempted outside any lock, a
gateway failure stays visible as "Refund pending" and the retry job refunds once, same key."""

from datetime import timedelta

import pytest
from django.urls import reverse

from marketplace.payments.gateway import GatewayError, GatewayUnavailable
from marketplace.payments.models import LocalRefund
from orders.models import Refund, RefundStatus
from orders.services import refunds as refund_services
from orders.services.cancellations import order_cancel
from orders.services.refunds import refund_attempt, refunds_retry
from tests.orders.checks import assert_refunded_in_full
from tests.orders.factories import on_hold_order

pytestmark = pytest.mark.django_db


class Down:
    def __init__(self, error):
        self.error = error
        self.calls = 0

    def refund_create(self, **kwargs):
        self.calls += 1
        raise self.error


def cancelled_order():
    """An order the buyer cancelled; its refund stored pending (this test's transaction never
    commits, so the job has not run)."""
    order = on_hold_order()
    order_cancel(order_id=order.pk, initiated_by="buyer", reason="", actor=order.buyer)
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.PENDING and refund.attempts == 0
    return order, refund


@pytest.mark.parametrize(
    "error", [GatewayUnavailable("The provider is unreachable."), GatewayError("Server error.")]
)
def test_a_gateway_failure_leaves_the_refund_pending_for_people_and_the_job_refunds_once(
    monkeypatch, client, error
):
    order, refund = cancelled_order()
    down = Down(error)
    monkeypatch.setattr(refund_services, "get_gateway", lambda: down)

    refund = refund_attempt(refund_id=refund.pk)

    assert refund.status == RefundStatus.FAILED
    assert refund.attempts == 1 and refund.last_error == str(error)
    assert not LocalRefund.objects.exists()
    client.force_login(order.buyer)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Refund pending" in page and "Refunded" not in page
    # Still down: the job records one more attempt.
    assert refunds_retry() == [refund.pk]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and refund.attempts == 2

    monkeypatch.undo()
    assert refunds_retry() == [refund.pk]

    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.attempts == 3 and refund.last_error == ""
    assert refund.gateway_refund_id == LocalRefund.objects.get().external_id
    assert LocalRefund.objects.get().idempotency_key == refund.idempotency_key
    assert refunds_retry() == []
    assert LocalRefund.objects.count() == 1
    # The ledger was reversed once, when the cancellation took effect.
    assert_refunded_in_full(order)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert f"Refunded ${order.total_minor / 100:,.2f} to your card" in page


def test_attempting_twice_refunds_once():
    _, refund = cancelled_order()
    first = refund_attempt(refund_id=refund.pk)
    second = refund_attempt(refund_id=refund.pk)
    assert first.status == second.status == RefundStatus.SUCCEEDED
    assert LocalRefund.objects.count() == 1


def test_the_same_key_is_answered_by_the_first_refund_even_when_our_answer_was_lost(monkeypatch):
    """The gateway refunded but we never recorded it (a crash after its answer): the retry asks
    again with the same key and records the same refund; no second refund."""
    _, refund = cancelled_order()
    refund_attempt(refund_id=refund.pk)
    first_id = Refund.objects.get(pk=refund.pk).gateway_refund_id
    # Pretend the answer was lost: a fresh pending refund row carrying the same key.
    Refund.objects.filter(pk=refund.pk).delete()
    again = Refund.objects.create(
        order=refund.order,
        amount_minor=refund.amount_minor,
        currency=refund.currency,
        idempotency_key=refund.idempotency_key,
    )
    assert refund_attempt(refund_id=again.pk).gateway_refund_id == first_id
    assert LocalRefund.objects.count() == 1


def test_the_retry_job_attempts_a_pending_refund_whose_job_was_lost():
    _, refund = cancelled_order()
    assert refunds_retry(now=refund.created_at + timedelta(minutes=1)) == []
    assert refunds_retry(now=refund.created_at + timedelta(minutes=11)) == [refund.pk]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED


def test_the_admin_retries_failed_refunds(monkeypatch, staff_client):
    _, refund = cancelled_order()
    monkeypatch.setattr(refund_services, "get_gateway", lambda: Down(GatewayUnavailable("Down.")))
    refund_attempt(refund_id=refund.pk)
    monkeypatch.undo()
    changelist = reverse("admin:orders_refund_changelist")
    assert staff_client.get(changelist).status_code == 200

    response = staff_client.post(
        changelist, {"action": "retry_failed", "_selected_action": [refund.pk]}, follow=True
    )

    assert "1 succeeded" in response.content.decode()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert staff_client.get(reverse("admin:orders_ordercancellation_changelist")).status_code == 200


def test_an_unreachable_broker_does_not_undo_the_cancellation(
    monkeypatch, django_capture_on_commit_callbacks
):
    from orders import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.attempt_refund, "delay", broker_down)
    order = on_hold_order()
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=order.pk, initiated_by="buyer", reason="", actor=order.buyer)
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.PENDING
    # The retry job finds it once it is overdue.
    assert refunds_retry(now=refund.created_at + timedelta(minutes=11)) == [refund.pk]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED


class Answers:
    """A gateway whose refund answers with the given statuses, one per call (Stripe may answer
    "pending" and settle the refund later)."""

    def __init__(self, *statuses):
        self.statuses = list(statuses)

    def refund_create(self, *, payment_id, amount_minor, idempotency_key):
        from marketplace.payments.gateway import RefundResult

        return RefundResult(id="re_later", amount_minor=amount_minor, status=self.statuses.pop(0))


def test_a_refund_the_gateway_answers_pending_stays_pending_until_it_succeeds(monkeypatch):
    _, refund = cancelled_order()
    gateway = Answers("pending", "succeeded")
    monkeypatch.setattr(refund_services, "get_gateway", lambda: gateway)

    refund_attempt(refund_id=refund.pk)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING and refund.gateway_refund_id == "re_later"

    refunds_retry(now=refund.created_at + timedelta(minutes=11))
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.refunded_at is not None


def test_a_refund_the_gateway_answers_failed_is_failed_and_retried(monkeypatch):
    _, refund = cancelled_order()
    monkeypatch.setattr(refund_services, "get_gateway", lambda: Answers("failed"))

    refund_attempt(refund_id=refund.pk)

    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and refund.last_error == "Refund failed."
