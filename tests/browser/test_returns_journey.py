"""Returns in Chromium, on a desktop and on a phone (issue 11's "Done when").

1. A shopper returns one of two units: the request form, the seller's approval in the Seller
   Center, the parcel sent back with the demo carrier and delivered by the tracking job (run
   in-process), the seller's receipt, the refund on the request page, and the seller's pending
   balance less exactly the unit's price net of the commission.
2. A refund-only request is rejected with a reason, the shopper escalates it with a statement,
   staff decide for the buyer in the admin's arbitration queue, and the shopper sees the refund.

Nothing scrolls sideways and no page breaks the Content-Security-Policy. MARKETPLACE_SCREENSHOTS=
<dir> keeps a screenshot of each step at each width."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from marketplace.ledger import accounts
from marketplace.ledger.services import ledger_balance
from orders.models import Order, OrderStatus, RefundStatus, Shipment, ShipmentStatus
from orders.services.checkout import checkout_place
from orders.services.fulfilment import PackageInput, order_ship
from orders.services.tracking import tracking_poll_due
from orders.services.transitions import order_transition
from returns.models import Dispute, DisputeStatus, RequestKind, RequestReason, ReturnStatus
from returns.services.requests import return_request_create
from sellers.models import ShopAddress
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.browser.steps import (
    WIDTHS,
    assert_no_csp_violations,
    assert_no_sideways_scroll,
    new_watched_page,
    screenshot,
    sign_in,
)
from tests.orders.factories import PAID_CARD, BuyerAddressFactory, buyable_sku, cart_with
from tests.returns.factories import demo_tracking_number
from tests.sellers.factories import ApprovedSellerFactory, ShopAddressFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMMISSION_RATE_PERCENT = 2  # the default commission on these factory products


def delivered(seller, buyer, *, title: str, price_minor: int, quantity: int) -> Order:
    """`buyer`'s paid order of `quantity` units of `title`, shipped with the demo carrier a day
    ago and delivered by the tracking job."""
    sku = buyable_sku(seller=seller, title=title, price_minor=price_minor, stock=quantity + 5)
    cart_with(buyer, (sku, quantity))
    checkout_place(buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=PAID_CARD)
    order = Order.objects.filter(buyer=buyer).latest("id")
    order_transition(order=order, to_status=OrderStatus.AWAITING_SHIPMENT)
    order_ship(
        order_id=order.pk,
        seller=seller,
        actor=None,
        packages=[PackageInput(carrier="demo", tracking_number=demo_tracking_number())],
    )
    order.shipments.update(created_at=timezone.now() - timedelta(days=1))
    tracking_poll_due(now=timezone.now(), min_interval=timedelta(0))
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    return order


def check(page, width: int, name: str) -> None:
    """The page fits the width and broke no policy rule; kept as a screenshot."""
    assert_no_sideways_scroll(page, width)
    assert_no_csp_violations(page)
    screenshot(page, f"{name}-{width}")


def flash(page, text: str):
    """The page's messages say `text`."""
    return expect(page.locator(".messages").filter(has_text=text))


@pytest.mark.parametrize("device", list(WIDTHS))
def test_a_shopper_returns_one_unit_and_is_refunded(browser, live_server, device):
    width, height = WIDTHS[device]
    seller = ApprovedSellerFactory(shop_name="Vase Works")
    ShopAddressFactory(seller=seller, kind=ShopAddress.Kind.RETURN, line1="2 Returns Lane")
    shopper = UserFactory(full_name="Rosa Shopper")
    order = delivered(seller, shopper, title="Speckled vase", price_minor=4200, quantity=2)
    pending = accounts.seller_pending(seller.pk, "USD")
    pending_before = ledger_balance(pending)
    shop_context, shop = new_watched_page(browser, live_server, width, height)
    seller_context, seller_page = new_watched_page(browser, live_server, width, height)
    try:
        # The shopper asks to send one of the two vases back.
        sign_in(shop, shopper, next_url=f"/orders/{order.pk}/")
        expect(shop.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
        expect(shop.get_by_test_id("order-returns")).to_contain_text("Returns accepted until")
        check(shop, width, "returns-order")
        shop.get_by_role("link", name="Return or refund").click()
        expect(shop.get_by_role("heading", name="Return or refund")).to_be_visible()
        shop.get_by_label("Return and refund").check()
        shop.get_by_label("Reason").select_option(RequestReason.DAMAGED)
        shop.get_by_label("Speckled vase").fill("1")
        shop.get_by_label("What happened?").fill("One vase arrived with a crack along the rim.")
        check(shop, width, "returns-form")
        shop.get_by_role("button", name="Send the request").click()
        flash(shop, "was sent to Vase Works").to_be_visible()
        request = order.return_requests.get()
        expect(shop.get_by_role("heading", name=f"Request {request.number}")).to_be_visible()
        expect(shop.get_by_test_id("request-status")).to_have_text("Waiting for the seller")
        expect(shop.get_by_test_id("request-lines")).to_contain_text("1 × Speckled vase")
        check(shop, width, "returns-requested")

        # The seller approves it from the Returns section's "To respond" tab.
        sign_in(seller_page, seller.owner, next_url="/seller/returns/")
        expect(seller_page.get_by_role("heading", name="Returns")).to_be_visible()
        seller_page.get_by_role("link", name="To respond").click()
        check(seller_page, width, "returns-seller-to-respond")
        seller_page.get_by_role("link", name=request.number).click()
        expect(seller_page.get_by_role("heading", name=f"Request {request.number}")).to_be_visible()
        check(seller_page, width, "returns-seller-request")
        seller_page.get_by_role("button", name="Approve the return").click()
        flash(seller_page, f"Request {request.number} approved").to_be_visible()
        request.refresh_from_db()
        assert request.status == ReturnStatus.AWAITING_BUYER_SHIPMENT

        # The shopper sends it back with the demo carrier.
        tracking_number = demo_tracking_number()
        shop.reload()
        expect(shop.get_by_test_id("ship-back-panel")).to_contain_text("2 Returns Lane")
        shop.get_by_label("Carrier").select_option(label="Agora Demo Post")
        shop.get_by_label("Tracking number").fill(tracking_number)
        check(shop, width, "returns-ship-back")
        shop.get_by_role("button", name="I sent it").click()
        flash(shop, "the shop can follow your parcel").to_be_visible()
        expect(shop.get_by_text(tracking_number, exact=True)).to_be_visible()
        check(shop, width, "returns-shipped-back")

        # The tracking job, three hours of carrier steps later: the parcel is at the shop.
        request.refresh_from_db()
        Shipment.objects.filter(pk=request.return_shipment_id).update(
            created_at=timezone.now() - timedelta(hours=3)
        )
        tracking_poll_due(now=timezone.now(), min_interval=timedelta(0))
        request.refresh_from_db()
        assert request.return_shipment.status == ShipmentStatus.DELIVERED
        assert request.confirm_receipt_by is not None

        # The seller confirms receipt from the "To confirm receipt" tab: the refund runs.
        seller_page.goto("/seller/returns/")
        seller_page.get_by_role("link", name="To confirm receipt").click()
        seller_page.get_by_role("link", name=request.number).click()
        expect(seller_page.get_by_text(tracking_number, exact=True)).to_be_visible()
        check(seller_page, width, "returns-seller-to-confirm")
        seller_page.get_by_role("button", name="Confirm receipt and refund").click()
        flash(seller_page, "Receipt confirmed: the buyer is refunded $42.00").to_be_visible()
        check(seller_page, width, "returns-seller-refunded")

        # The shopper sees the refund on the request's page.
        shop.reload()
        expect(shop.get_by_test_id("request-status")).to_have_text("Refunded")
        expect(shop.get_by_test_id("request-refund")).to_contain_text("$42.00")
        check(shop, width, "returns-refunded")
    finally:
        shop_context.close()
        seller_context.close()

    request.refresh_from_db()
    assert request.status == ReturnStatus.REFUNDED
    assert request.refund.status == RefundStatus.SUCCEEDED
    assert request.refund.amount_minor == 4200
    seller_share = 4200 - 4200 * COMMISSION_RATE_PERCENT // 100
    assert (pending_before - ledger_balance(pending)).amount_minor == seller_share


@pytest.mark.parametrize("device", list(WIDTHS))
def test_a_rejected_refund_goes_to_the_marketplace_which_decides_for_the_buyer(
    browser, live_server, device, staff
):
    width, height = WIDTHS[device]
    seller = ApprovedSellerFactory(shop_name="Lamp Loft")
    shopper = UserFactory(full_name="Rosa Shopper")
    order = delivered(seller, shopper, title="Brass desk lamp", price_minor=6100, quantity=1)
    request = return_request_create(
        order_id=order.pk,
        buyer=shopper,
        kind=RequestKind.REFUND_ONLY,
        reason=RequestReason.NOT_AS_DESCRIBED,
        description="The lamp is brass-coloured plastic, not brass.",
        quantities={order.lines.get().pk: 1},
    )
    shop_context, shop = new_watched_page(browser, live_server, width, height)
    seller_context, seller_page = new_watched_page(browser, live_server, width, height)
    staff_context, admin = new_watched_page(browser, live_server, width, height)
    try:
        # The seller rejects it with a reason.
        sign_in(seller_page, seller.owner, next_url=f"/seller/returns/{request.pk}/")
        expect(seller_page.get_by_role("heading", name=f"Request {request.number}")).to_be_visible()
        seller_page.locator("summary", has_text="Reject the request").click()
        seller_page.get_by_label("Why you reject it").fill(
            "The listing says brass finish; the photos show the same lamp."
        )
        check(seller_page, width, "disputes-seller-reject")
        seller_page.get_by_role("button", name="Reject the request").click()
        flash(seller_page, f"Request {request.number} rejected").to_be_visible()
        check(seller_page, width, "disputes-seller-rejected")

        # The shopper reads the reason and asks the marketplace to decide.
        sign_in(shop, shopper, next_url=f"/returns/{request.pk}/")
        expect(shop.get_by_test_id("request-status")).to_have_text("Rejected by the seller")
        expect(shop.get_by_role("region", name="The shop's answer")).to_contain_text(
            "the photos show the same lamp"
        )
        shop.locator("summary", has_text="Ask the marketplace to decide").click()
        shop.get_by_label("Why should the marketplace step in?").fill(
            "A magnet sticks to it and it weighs next to nothing: it is not brass."
        )
        check(shop, width, "disputes-escalate")
        shop.get_by_role("button", name="Send to the marketplace").click()
        flash(shop, "The marketplace will look at your request").to_be_visible()
        expect(shop.get_by_test_id("request-status")).to_have_text(
            "Under review by the marketplace"
        )
        expect(shop.get_by_test_id("dispute-panel")).to_contain_text("A magnet sticks to it")
        check(shop, width, "disputes-in-dispute")
        dispute = Dispute.objects.get(request=request)

        # Staff open the dispute in the arbitration queue and decide for the buyer.
        decide_for_buyer_in_admin(admin, staff, dispute, width)

        # The shopper sees the decision and the refund.
        shop.reload()
        expect(shop.get_by_test_id("request-status")).to_have_text("Refunded")
        expect(shop.get_by_test_id("request-refund")).to_contain_text("$61.00")
        expect(shop.get_by_test_id("dispute-panel")).to_contain_text("Decided for you")
        check(shop, width, "disputes-refunded")
    finally:
        shop_context.close()
        seller_context.close()
        staff_context.close()

    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.DECIDED_FOR_BUYER
    request.refresh_from_db()
    assert request.status == ReturnStatus.REFUNDED
    assert request.refund.status == RefundStatus.SUCCEEDED
    assert request.refund.amount_minor == 6100


def decide_for_buyer_in_admin(admin, staff, dispute, width: int) -> None:
    """Staff sign in to the admin, find the dispute at the top of the open arbitration queue,
    read it and decide for the buyer with a note (the full amount asked)."""
    number = dispute.request.number
    admin.goto("/admin/login/?next=/admin/returns/dispute/")
    admin.get_by_label("Email address").fill(staff.email)
    admin.get_by_label("Password").fill(DEFAULT_PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    admin.get_by_role("link", name="Open disputes (1)").click()
    expect(admin.locator("#result_list tbody tr")).to_have_count(1)
    check(admin, width, "disputes-admin-queue")
    admin.locator("#result_list").get_by_role("link", name=number).click()
    expect(admin.get_by_text("A magnet sticks to it").first).to_be_visible()
    expect(admin.get_by_text("the photos show the same lamp").first).to_be_visible()
    check(admin, width, "disputes-admin-dispute")
    admin.get_by_role("link", name="Decide for the buyer").first.click()
    admin.get_by_label("Note").fill(
        "A brass lamp is not magnetic; the buyer's test is convincing. Full refund."
    )
    check(admin, width, "disputes-admin-decide")
    admin.get_by_role("button", name="Decide for the buyer").click()
    expect(admin.locator(".messagelist")).to_contain_text(
        f"request {number}) decided for the buyer: $61.00 is being refunded"
    )
    check(admin, width, "disputes-admin-decided")
