"""The shopper's return pages: the request form, the request page and its actions, the list,
the evidence files, the returns part of the order page, the return window on the product page and
the shop's setting of it. Every refusal is a message and writes nothing; another buyer gets 404."""

import io
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from catalog.selectors import product_url
from orders.models import Order, Refund, Shipment, ShipmentDirection
from returns.models import (
    Dispute,
    Party,
    RequestKind,
    RequestReason,
    ReturnEvidence,
    ReturnRequest,
    ReturnStatus,
)
from returns.services.disputes import dispute_decide, return_escalate
from returns.services.requests import (
    return_approve,
    return_offer_partial,
    return_reject,
)
from tests.accounts.factories import UserFactory
from tests.catalog.factories import live_product
from tests.concurrency.threads import run_at_once, signed_in_clients
from tests.markers import needs_postgres
from tests.orders.factories import ready_to_ship
from tests.returns.factories import delivered_order, demo_tracking_number, return_request
from tests.sellers.factories import ShopAddressFactory

pytestmark = pytest.mark.django_db


def png(name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 12), (200, 40, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def fake_png() -> SimpleUploadedFile:
    return SimpleUploadedFile("x.png", b"just some text, not a picture", content_type="image/png")


def notes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def order(seller):
    """A delivered order of two units at $25.00 and one at $10.00."""
    return delivered_order(seller, (2500, 2), (1000, 1))


@pytest.fixture
def buyer_client(client, order):
    return signed_in(client, order.buyer)


def form_data(order, **overrides) -> dict:
    first, second = order.lines.order_by("id")
    data = {
        "kind": RequestKind.RETURN_AND_REFUND,
        "reason": RequestReason.DAMAGED,
        f"qty_{first.pk}": "1",
        f"qty_{second.pk}": "0",
        "description": "The lid was cracked.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def private_files(settings) -> list:
    root = settings.PRIVATE_MEDIA_ROOT
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# --- The request form ----------------------------------------------------------------------------


def test_the_form_shows_the_lines_and_the_window(buyer_client, order):
    response = buyer_client.get(reverse("returns:new", args=[order.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in html
    assert 'accept="image/jpeg,image/png"' in html
    assert "multiple" in html
    ends = timezone.localtime(order.delivered_at + timedelta(days=15))
    assert f'returns accepted until <time datetime="{ends.isoformat()}">' in html
    assert f"{ends:%b} {ends.day}, {ends.year}</time>" in html
    for line in order.lines.all():
        assert f'name="qty_{line.pk}"' in html
        assert f'max="{line.quantity}"' in html


def test_the_form_creates_a_request_with_photos(buyer_client, order):
    data = form_data(order) | {"photos": [png("a.png"), png("b.png")]}

    response = buyer_client.post(reverse("returns:new", args=[order.pk]), data)

    request = ReturnRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("returns:detail", args=[request.pk])
    assert request.kind == RequestKind.RETURN_AND_REFUND
    assert request.description == "The lid was cracked."
    assert request.requested_amount_minor == 2500
    assert [(line.quantity, line.amount_minor) for line in request.lines.all()] == [(1, 2500)]
    assert request.evidence.filter(party=Party.BUYER).count() == 2
    assert any(f"Your request {request.number} was sent" in note for note in notes(response))


def test_a_file_that_is_not_a_picture_is_refused_and_nothing_is_written(
    buyer_client, order, settings
):
    data = form_data(order) | {"photos": [png("good.png"), fake_png()]}

    response = buyer_client.post(reverse("returns:new", args=[order.pk]), data)

    assert response.status_code == 400
    assert "x.png" in " ".join(notes(response))
    assert ReturnRequest.objects.count() == 0
    assert ReturnEvidence.objects.count() == 0
    assert private_files(settings) == []
    html = response.content.decode()
    assert "The lid was cracked." in html  # the input is kept
    assert 'value="1"' in html


def test_seven_photos_are_refused(buyer_client, order):
    data = form_data(order) | {"photos": [png(f"p{n}.png") for n in range(7)]}

    response = buyer_client.post(reverse("returns:new", args=[order.pk]), data)

    assert response.status_code == 400
    assert "at most 6" in " ".join(notes(response))
    assert ReturnRequest.objects.count() == 0


@pytest.mark.parametrize(
    "quantity", ["abc", "-1", "99", "3", "1e3", "99999999999999999999999999999", " ", "1.5"]
)
def test_a_bad_quantity_is_a_message_and_nothing_is_written(buyer_client, order, quantity):
    first = order.lines.order_by("id").first()

    response = buyer_client.post(
        reverse("returns:new", args=[order.pk]), form_data(order, **{f"qty_{first.pk}": quantity})
    )

    assert response.status_code == 400
    assert notes(response)
    assert ReturnRequest.objects.count() == 0


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"kind": None}, "Choose a refund only or a return and refund."),
        ({"kind": "exchange"}, "Choose a refund only or a return and refund."),
        ({"reason": None}, "Choose a reason."),
        ({"reason": "bored"}, "Choose one of the reasons listed."),
        (
            {"kind": RequestKind.REFUND_ONLY, "reason": RequestReason.CHANGED_MIND},
            "does not go with a refund only",
        ),
    ],
)
def test_missing_or_unfitting_choices_are_refused(buyer_client, order, overrides, expected):
    response = buyer_client.post(
        reverse("returns:new", args=[order.pk]), form_data(order, **overrides)
    )

    assert response.status_code == 400
    assert expected in " ".join(notes(response))
    assert ReturnRequest.objects.count() == 0


def test_no_units_chosen_is_the_services_message(buyer_client, order):
    first, second = order.lines.order_by("id")

    response = buyer_client.post(
        reverse("returns:new", args=[order.pk]),
        form_data(order, **{f"qty_{first.pk}": "0", f"qty_{second.pk}": None}),
    )

    assert response.status_code == 400
    assert "Choose at least one item and how many." in notes(response)
    assert ReturnRequest.objects.count() == 0


def test_a_line_held_by_another_request_sends_the_buyer_to_it(buyer_client, order):
    first = order.lines.order_by("id").first()
    held = return_request(order, quantities={first.pk: 1})

    page = buyer_client.get(reverse("returns:new", args=[order.pk])).content.decode()
    response = buyer_client.post(reverse("returns:new", args=[order.pk]), form_data(order))

    assert reverse("returns:detail", args=[held.pk]) in page
    assert response.status_code == 302
    assert response["Location"] == reverse("returns:detail", args=[held.pk])
    assert ReturnRequest.objects.count() == 1
    assert "already have an open request" in " ".join(notes(response))


def test_outside_the_window_the_page_says_so(buyer_client, order):
    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - timedelta(days=16))

    page = buyer_client.get(reverse("returns:new", args=[order.pk]))
    posted = buyer_client.post(reverse("returns:new", args=[order.pk]), form_data(order))

    assert page.status_code == 200
    assert "The return window for this order ended on" in page.content.decode()
    assert 'name="kind"' not in page.content.decode()
    assert posted.status_code == 200
    assert ReturnRequest.objects.count() == 0


def test_before_delivery_the_page_says_so(client, seller):
    order = ready_to_ship(seller)
    signed_in(client, order.buyer)

    response = client.post(reverse("returns:new", args=[order.pk]), {"kind": "refund_only"})

    assert response.status_code == 200
    assert "once the order has been delivered" in response.content.decode()
    assert ReturnRequest.objects.count() == 0


def test_the_form_needs_a_signed_in_buyer(client, order):
    response = client.get(reverse("returns:new", args=[order.pk]))

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# --- The request page ----------------------------------------------------------------------------


def test_the_request_page_shows_what_was_asked_the_deadline_and_the_timeline(buyer_client, order):
    request = return_request(order, quantities={order.lines.order_by("id").first().pk: 2})

    html = buyer_client.get(reverse("returns:detail", args=[request.pk])).content.decode()

    assert "Waiting for the seller" in html
    assert "2 × " in html
    assert "$50.00" in html
    assert "answers by" in html
    assert 'data-testid="request-timeline"' in html
    assert "Withdraw the request" in html
    assert "Ask the marketplace to decide" not in html


def test_an_offer_shows_accept_and_decline(buyer_client, order, seller):
    request = return_request(order, kind=RequestKind.REFUND_ONLY)
    return_offer_partial(request_id=request.pk, seller=seller, actor=None, amount_minor=1200)

    html = buyer_client.get(reverse("returns:detail", args=[request.pk])).content.decode()

    assert "offers $12.00" in html
    assert reverse("returns:accept_offer", args=[request.pk]) in html
    assert reverse("returns:decline_offer", args=[request.pk]) in html
    assert "Answer the offer by" in html


def test_an_approved_return_shows_the_return_address_and_the_ship_form(buyer_client, order, seller):
    ShopAddressFactory(seller=seller, kind="ship_from", city="Shipville")
    request = return_request(order)
    return_approve(request_id=request.pk, seller=seller)

    html = buyer_client.get(reverse("returns:detail", args=[request.pk])).content.decode()
    assert "Shipville" in html  # no return address: the ship-from one
    ShopAddressFactory(seller=seller, kind="return", city="Returnton")
    html = buyer_client.get(reverse("returns:detail", args=[request.pk])).content.decode()

    assert "Returnton" in html
    assert "Shipville" not in html
    assert 'name="carrier"' in html
    assert "Agora Demo Post" in html
    assert "Send it back by" in html


# --- Actions -------------------------------------------------------------------------------------


def test_withdraw_twice(buyer_client, order):
    request = return_request(order)
    url = reverse("returns:withdraw", args=[request.pk])

    first = buyer_client.post(url)
    second = buyer_client.post(url)

    assert first.status_code == second.status_code == 302
    request.refresh_from_db()
    assert request.status == ReturnStatus.WITHDRAWN
    assert request.status_events.count() == 1


def test_withdraw_refused_once_shipped_back(buyer_client, order, seller):
    request = return_request(order)
    return_approve(request_id=request.pk, seller=seller)
    buyer_client.post(
        reverse("returns:ship_back", args=[request.pk]),
        {"carrier": "demo", "tracking_number": demo_tracking_number()},
    )

    response = buyer_client.post(reverse("returns:withdraw", args=[request.pk]))

    assert response.status_code == 302
    assert "can no longer be withdrawn" in " ".join(notes(response))
    request.refresh_from_db()
    assert request.status == ReturnStatus.BUYER_SHIPPED


def test_accept_the_offer_twice_refunds_once(buyer_client, order, seller):
    request = return_request(order, kind=RequestKind.REFUND_ONLY)
    return_offer_partial(request_id=request.pk, seller=seller, actor=None, amount_minor=1200)
    url = reverse("returns:accept_offer", args=[request.pk])

    first = buyer_client.post(url)
    second = buyer_client.post(url, follow=True)

    assert first.status_code == 302
    assert second.status_code == 200
    request.refresh_from_db()
    assert request.status == ReturnStatus.REFUNDED
    assert Refund.objects.filter(order=order).count() == 1
    html = second.content.decode()
    assert "$12.00" in html
    assert 'data-testid="request-refund"' in html


def test_decline_the_offer_twice_then_accepting_is_refused(buyer_client, order, seller):
    request = return_request(order, kind=RequestKind.REFUND_ONLY)
    return_offer_partial(request_id=request.pk, seller=seller, actor=None, amount_minor=1200)

    buyer_client.post(reverse("returns:decline_offer", args=[request.pk]))
    again = buyer_client.post(reverse("returns:decline_offer", args=[request.pk]))
    accept = buyer_client.post(reverse("returns:accept_offer", args=[request.pk]))

    assert again.status_code == accept.status_code == 302
    assert notes(accept)  # the service's refusal
    request.refresh_from_db()
    assert request.status == ReturnStatus.DECLINED
    assert Refund.objects.count() == 0


def test_ship_back_twice_with_the_same_number(buyer_client, order, seller):
    request = return_request(order)
    return_approve(request_id=request.pk, seller=seller)
    url = reverse("returns:ship_back", args=[request.pk])
    data = {"carrier": "demo", "tracking_number": demo_tracking_number().lower()}

    first = buyer_client.post(url, data)
    second = buyer_client.post(url, data, follow=True)

    assert first.status_code == 302
    assert second.status_code == 200
    request.refresh_from_db()
    assert request.status == ReturnStatus.BUYER_SHIPPED
    assert Shipment.objects.filter(direction=ShipmentDirection.RETURN).count() == 1
    assert data["tracking_number"].upper() in second.content.decode()


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"carrier": "pigeon", "tracking_number": "DP0123456789"}, "Choose the carrier"),
        ({"tracking_number": "DP0123456789"}, "Choose the carrier"),
        ({"carrier": "demo", "tracking_number": "12"}, "tracking number looks like"),
        ({"carrier": "demo"}, "Enter the tracking number"),
        ({"carrier": "demo", "tracking_number": "D" * 500}, "too long"),
    ],
)
def test_bad_ship_back_input_changes_nothing(buyer_client, order, seller, data, expected):
    request = return_request(order)
    return_approve(request_id=request.pk, seller=seller)

    response = buyer_client.post(reverse("returns:ship_back", args=[request.pk]), data)

    assert response.status_code == 302
    assert expected in " ".join(notes(response))
    request.refresh_from_db()
    assert request.status == ReturnStatus.AWAITING_BUYER_SHIPMENT
    assert not Shipment.objects.filter(direction=ShipmentDirection.RETURN).exists()


def test_ship_back_before_approval_is_refused(buyer_client, order):
    request = return_request(order)

    response = buyer_client.post(
        reverse("returns:ship_back", args=[request.pk]),
        {"carrier": "demo", "tracking_number": demo_tracking_number()},
    )

    assert response.status_code == 302
    assert notes(response)
    assert not Shipment.objects.filter(direction=ShipmentDirection.RETURN).exists()


def test_escalate_a_rejection_with_a_photo_twice(buyer_client, order, seller):
    request = return_request(order)
    return_reject(request_id=request.pk, seller=seller, actor=None, reason_text="Used.")
    url = reverse("returns:escalate", args=[request.pk])

    page = buyer_client.get(reverse("returns:detail", args=[request.pk])).content.decode()
    first = buyer_client.post(url, {"statement": "It was new.", "photos": [png()]})
    second = buyer_client.post(url, {"statement": "It was new."})

    assert "Ask the marketplace to decide" in page
    assert "“Used.”" in page
    assert first.status_code == second.status_code == 302
    request.refresh_from_db()
    assert request.status == ReturnStatus.IN_DISPUTE
    assert Dispute.objects.get().buyer_statement == "It was new."
    assert request.evidence.count() == 1


@pytest.mark.parametrize("data", [{}, {"statement": "  "}, {"statement": "x" * 3000}])
def test_escalating_without_a_statement_is_refused(buyer_client, order, seller, data):
    request = return_request(order)
    return_reject(request_id=request.pk, seller=seller, actor=None, reason_text="Used.")

    response = buyer_client.post(reverse("returns:escalate", args=[request.pk]), data)

    assert response.status_code == 302
    assert notes(response)
    request.refresh_from_db()
    assert request.status == ReturnStatus.REJECTED
    assert not Dispute.objects.exists()


def test_escalating_with_a_bad_file_writes_nothing(buyer_client, order, seller, settings):
    request = return_request(order)
    return_reject(request_id=request.pk, seller=seller, actor=None, reason_text="Used.")

    response = buyer_client.post(
        reverse("returns:escalate", args=[request.pk]),
        {"statement": "It was new.", "photos": [png(), fake_png()]},
    )

    assert "x.png" in " ".join(notes(response))
    request.refresh_from_db()
    assert request.status == ReturnStatus.REJECTED
    assert private_files(settings) == []


def test_statements_in_a_dispute(buyer_client, order, seller):
    request = return_request(order)
    return_reject(request_id=request.pk, seller=seller, actor=None, reason_text="Used.")
    return_escalate(
        request_id=request.pk,
        party=Party.SELLER,
        user=None,
        seller=seller,
        statement="Clearly used.",
    )
    url = reverse("returns:statement", args=[request.pk])

    page = buyer_client.get(reverse("returns:detail", args=[request.pk])).content.decode()
    first = buyer_client.post(url, {"statement": "Brand new, see photo.", "photos": [png()]})
    second = buyer_client.post(url, {"statement": "Brand new, see photo."}, follow=True)
    empty = buyer_client.post(url, {"statement": ""})

    assert "Clearly used." in page
    assert "Add to your statement" in page
    assert first.status_code == 302
    assert second.status_code == 200
    assert "Brand new, see photo." in second.content.decode()
    assert "Write your statement or attach evidence." in notes(empty)
    assert Dispute.objects.get().buyer_statement == "Brand new, see photo."
    assert request.evidence.filter(party=Party.BUYER).count() == 1


def test_actions_answer_get_with_405(buyer_client, order):
    request = return_request(order)

    for name in ("withdraw", "accept_offer", "decline_offer", "ship_back", "escalate"):
        assert buyer_client.get(reverse(f"returns:{name}", args=[request.pk])).status_code == 405


# --- Evidence ------------------------------------------------------------------------------------


def test_the_buyer_downloads_the_evidence_of_both_sides(buyer_client, order, seller):
    request = return_request(order)
    return_reject(
        request_id=request.pk,
        seller=seller,
        actor=None,
        reason_text="Used.",
        evidence=[png("seller.png")],
    )
    evidence = ReturnEvidence.objects.get(party=Party.SELLER)
    url = reverse("returns:evidence", args=[request.pk, evidence.pk])

    page = buyer_client.get(reverse("returns:detail", args=[request.pk])).content.decode()
    response = buyer_client.get(url)

    assert url in page
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_evidence_of_another_request_is_404(buyer_client, order, seller):
    request = return_request(order, quantities={order.lines.order_by("id").first().pk: 1})
    other_order = delivered_order(seller)
    other = return_request(other_order)
    return_reject(
        request_id=other.pk, seller=seller, actor=None, reason_text="No.", evidence=[png()]
    )
    evidence = ReturnEvidence.objects.get()

    response = buyer_client.get(reverse("returns:evidence", args=[request.pk, evidence.pk]))

    assert response.status_code == 404


# --- Another buyer -------------------------------------------------------------------------------


def test_another_buyer_gets_404_everywhere(client, order, seller):
    request = return_request(order)
    return_reject(
        request_id=request.pk, seller=seller, actor=None, reason_text="No.", evidence=[png()]
    )
    evidence = ReturnEvidence.objects.get()
    signed_in(client, UserFactory())

    assert client.get(reverse("returns:new", args=[order.pk])).status_code == 404
    assert client.post(reverse("returns:new", args=[order.pk]), form_data(order)).status_code == 404
    assert client.get(reverse("returns:detail", args=[request.pk])).status_code == 404
    assert (
        client.get(reverse("returns:evidence", args=[request.pk, evidence.pk])).status_code == 404
    )
    posts = {
        "withdraw": {},
        "accept_offer": {},
        "decline_offer": {},
        "ship_back": {"carrier": "pigeon", "tracking_number": "x"},
        "escalate": {"statement": "Mine now."},
        "statement": {"statement": "Mine now."},
    }
    for name, data in posts.items():
        response = client.post(reverse(f"returns:{name}", args=[request.pk]), data)
        assert response.status_code == 404, name
    request.refresh_from_db()
    assert request.status == ReturnStatus.REJECTED
    assert ReturnRequest.objects.count() == 1
    assert client.get(reverse("returns:list")).content.decode().count(request.number) == 0


def test_unknown_ids_are_404(buyer_client):
    assert buyer_client.get(reverse("returns:detail", args=[999999])).status_code == 404
    assert buyer_client.post(reverse("returns:withdraw", args=[999999])).status_code == 404
    assert buyer_client.get(reverse("returns:new", args=[999999])).status_code == 404


# --- The list ------------------------------------------------------------------------------------


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("returns:list"))
    assert response.status_code == 200
    return len(queries)


def test_the_list_shows_the_buyers_requests_newest_first(buyer_client, order, seller):
    first, second = order.lines.order_by("id")
    older = return_request(order, quantities={first.pk: 1})
    newer = return_request(order, quantities={second.pk: 1})

    html = buyer_client.get(reverse("returns:list")).content.decode()

    assert html.index(newer.number) < html.index(older.number)
    assert "Waiting for the seller" in html


def test_the_list_costs_the_same_queries_for_1_and_5_requests(
    client, seller, django_assert_num_queries
):
    buyer = UserFactory()
    signed_in(client, buyer)
    return_request(delivered_order(seller, (1000, 1), buyer=buyer))
    client.get(reverse("returns:list"))  # warm the session and the content types
    one = _list_queries(client)
    for _ in range(4):
        return_request(delivered_order(seller, (1000, 2), (500, 1), buyer=buyer))

    with django_assert_num_queries(one):
        response = client.get(reverse("returns:list"))

    assert response.content.decode().count("Waiting for the seller") == 5


def test_the_list_is_paginated(client, seller):
    buyer = UserFactory()
    signed_in(client, buyer)
    order = delivered_order(seller, (1000, 21), buyer=buyer)
    line = order.lines.get()
    for _ in range(21):
        request = return_request(order, quantities={line.pk: 1})
        request.lines.update(holds_line=False)  # let the next request take the same line

    first = client.get(reverse("returns:list")).content.decode()
    second = client.get(reverse("returns:list") + "?page=2").content.decode()

    assert first.count("Waiting for the seller") == 20
    assert second.count("Waiting for the seller") == 1
    assert "Page 1 of 2" in first


# --- The order page ------------------------------------------------------------------------------


def test_the_order_page_shows_the_window_the_button_and_the_requests(buyer_client, order):
    url = reverse("orders:detail", args=[order.pk])

    html = buyer_client.get(url).content.decode()
    ends = timezone.localtime(order.delivered_at + timedelta(days=15))
    assert f'Returns accepted until <time datetime="{ends.isoformat()}">' in html
    assert f"{ends:%b} {ends.day}, {ends.year}</time>" in html
    assert reverse("returns:new", args=[order.pk]) in html

    request = return_request(order)  # every unit of every line
    html = buyer_client.get(url).content.decode()

    assert reverse("returns:new", args=[order.pk]) not in html
    assert reverse("returns:detail", args=[request.pk]) in html
    assert "Waiting for the seller" in html


def test_the_order_page_says_nothing_of_returns_before_delivery(client, seller):
    order = ready_to_ship(seller)
    signed_in(client, order.buyer)

    html = client.get(reverse("orders:detail", args=[order.pk])).content.decode()

    assert "Returns accepted" not in html
    assert reverse("returns:new", args=[order.pk]) not in html


def test_the_order_page_after_the_window(buyer_client, order):
    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - timedelta(days=20))

    html = buyer_client.get(reverse("orders:detail", args=[order.pk])).content.decode()

    assert "The return window for this order ended on" in html
    assert reverse("returns:new", args=[order.pk]) not in html


# --- The product page and the shop's setting ----------------------------------------------------


def test_the_product_page_shows_the_shops_return_window(client, owner_client):
    seller = owner_client.seller
    product = live_product(title="Blue mug", seller=seller)

    before = client.get(product_url(product)).content.decode()
    response = owner_client.post(
        reverse("seller_center:settings"),
        {"description": "Mugs.", "return_window_days": "30"},
    )
    client.logout()
    after = client.get(product_url(product)).content.decode()

    assert "15-day returns" in before
    assert response.status_code == 302
    seller.refresh_from_db()
    assert seller.return_window_days == 30
    assert "30-day returns" in after


def test_the_settings_page_shows_the_window(owner_client):
    html = owner_client.get(reverse("seller_center:settings")).content.decode()

    assert 'name="return_window_days"' in html
    assert 'value="15"' in html


@pytest.mark.parametrize("days", ["6", "91", "0", "-3", "abc", "1e2", "9" * 30])
def test_a_return_window_out_of_range_is_refused(owner_client, days):
    response = owner_client.post(
        reverse("seller_center:settings"), {"description": "Mugs.", "return_window_days": days}
    )

    assert response.status_code == 400
    assert 'id="id_return_window_days_error"' in response.content.decode()
    seller = owner_client.seller
    seller.refresh_from_db()
    assert seller.return_window_days == 15
    assert seller.description == ""


def test_an_empty_window_keeps_the_shops(owner_client):
    seller = owner_client.seller
    seller.return_window_days = 20
    seller.save(update_fields=["return_window_days"])

    response = owner_client.post(
        reverse("seller_center:settings"), {"description": "Mugs.", "return_window_days": ""}
    )

    assert response.status_code == 302
    seller.refresh_from_db()
    assert (seller.return_window_days, seller.description) == (20, "Mugs.")


# --- Two identical posts at once (PostgreSQL) -----------------------------------------------------


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_identical_request_posts_at_once_make_one_request(seller):
    order = delivered_order(seller, (2500, 2), (1000, 1))
    clients = signed_in_clients(order.buyer, 2)
    url = reverse("returns:new", args=[order.pk])

    responses = run_at_once(2, lambda index: clients[index].post(url, form_data(order)))

    assert ReturnRequest.objects.count() == 1
    request = ReturnRequest.objects.get()
    assert [response.status_code for response in responses] == [302, 302]
    assert {response["Location"] for response in responses} == {
        reverse("returns:detail", args=[request.pk])
    }


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_identical_accepts_at_once_refund_once(seller):
    order = delivered_order(seller, (2500, 2))
    request = return_request(order, kind=RequestKind.REFUND_ONLY)
    return_offer_partial(request_id=request.pk, seller=seller, actor=None, amount_minor=1200)
    clients = signed_in_clients(order.buyer, 2)
    url = reverse("returns:accept_offer", args=[request.pk])

    responses = run_at_once(2, lambda index: clients[index].post(url))

    assert [response.status_code for response in responses] == [302, 302]
    request.refresh_from_db()
    assert request.status == ReturnStatus.REFUNDED
    assert Refund.objects.filter(order=order).count() == 1


# --- Further states --------------------------------------------------------------------------------


def test_with_every_unit_in_a_request_the_form_only_points_to_it(buyer_client, order):
    held = return_request(order)

    html = buyer_client.get(reverse("returns:new", args=[order.pk])).content.decode()

    assert 'data-testid="nothing-to-ask"' in html
    assert 'name="kind"' not in html
    assert reverse("returns:detail", args=[held.pk]) in html


def test_a_decided_dispute_shows_the_decision_and_the_refund(buyer_client, order, seller, staff):
    request = return_request(order)
    return_reject(request_id=request.pk, seller=seller, actor=None, reason_text="Used.")
    return_escalate(request_id=request.pk, party=Party.BUYER, user=order.buyer, statement="New.")
    dispute_decide(
        dispute_id=Dispute.objects.get().pk,
        staff=staff,
        for_buyer=True,
        note="The photos show a crack from transit.",
        refund_amount_minor=3000,
    )

    html = buyer_client.get(reverse("returns:detail", args=[request.pk])).content.decode()

    assert "Decided for you" in html
    assert "The photos show a crack from transit." in html
    assert "$30.00" in html
    assert 'data-testid="request-refund"' in html
    assert "Add to your statement" not in html
