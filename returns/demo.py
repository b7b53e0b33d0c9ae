"""Demo returns for `manage.py seed_demo`: the demo shopper's requests in every state a person
sees, on delivered orders of the demo shops, so the shopper's Returns pages, the Seller Center's
Returns tabs (the demo seller's Sofia's Studio holds most of them) and the admin's arbitration
queue (one open dispute) have something to show.

Every request is made and moved by the services people use (returns.services.*), at past moments
given with `now`, so the deadlines look realistic; the orders they are about are the demo
shopper's delivered orders (orders/demo.py), and more are placed, shipped and delivered through
the same helpers when there are not enough. Idempotent: nothing is done once the shopper has a
request.
"""

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from marketplace.accounts.models import User
from marketplace.payments.local_money import SUCCEEDING_TEST_CARD
from orders.demo import (
    DEMO_SELLER_SLUG,
    DEMO_SHOPPER_EMAIL,
    _buyable_skus_by_shop,
    _placed_at,
    _release,
    _ship,
)
from orders.models import BuyerAddress, Order, OrderLine, Refund
from orders.services.cart import cart_add, cart_get_or_create
from orders.services.checkout import checkout_place
from orders.services.refunds import refund_attempt
from orders.services.tracking import tracking_poll_due
from returns.models import (
    Party,
    RequestKind,
    RequestReason,
    ReturnRequest,
    ReturnRequestLine,
)
from returns.services.deadlines import returns_close_unshipped
from returns.services.disputes import return_escalate
from returns.services.requests import (
    RETURNABLE_ORDER_STATUSES,
    order_accepts_requests,
    order_returnable_lines,
    return_approve,
    return_offer_decline,
    return_offer_partial,
    return_reject,
    return_request_create,
    return_withdraw,
)
from returns.services.shipping import return_confirm_receipt, return_ship_back

OTHER_SHOPS = ("northwind-audio", "maple-kitchen")
RETURN_TRACKING_PREFIX = "DP08"  # + the request id: unique, and the demo carrier's format


@dataclass
class _Clock:
    now: datetime

    def ago(self, *, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)


def demo_photo(name: str = "damaged-item.png") -> SimpleUploadedFile:
    """A small PNG standing in for the shopper's photo: a dented parcel on a table."""
    image = Image.new("RGB", (480, 360), (226, 221, 212))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 270, 480, 360), fill=(150, 115, 80))
    draw.polygon([(110, 110), (370, 100), (390, 280), (95, 285)], fill=(196, 154, 98))
    draw.polygon([(110, 110), (370, 100), (330, 70), (150, 75)], fill=(214, 176, 122))
    draw.line([(230, 100), (250, 280)], fill=(120, 90, 60), width=6)  # the tape
    draw.polygon([(300, 160), (360, 150), (350, 215), (310, 205)], fill=(150, 110, 70))  # dent
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


class _Seeder:
    """Finds (or makes) a delivered order line for each request and moves the requests."""

    def __init__(self, shopper: User, address: BuyerAddress, clock: _Clock):
        self.shopper = shopper
        self.address = address
        self.clock = clock
        self.cart = cart_get_or_create(user=shopper)
        self.placed = 0
        self.step = timedelta(minutes=settings.DEMO_CARRIER_STEP_MINUTES)
        self.window = timedelta(minutes=settings.ORDER_CANCEL_WINDOW_MINUTES)

    def _free_line(self, slug: str, asked_at: datetime) -> OrderLine | None:
        """A line of a delivered order of the shop, delivered well before `asked_at`, inside its
        return window then, never asked about before."""
        asked = set(
            ReturnRequestLine.objects.filter(request__buyer=self.shopper).values_list(
                "order_line_id", flat=True
            )
        )
        orders = (
            Order.objects.filter(
                buyer=self.shopper,
                seller__slug=slug,
                status__in=RETURNABLE_ORDER_STATUSES,
                delivered_at__lte=asked_at - timedelta(hours=6),
            )
            .select_related("seller")
            .order_by("-delivered_at", "id")
        )
        for order in orders:
            if not order_accepts_requests(order, now=asked_at):
                continue
            for item in order_returnable_lines(order):
                if item.units and item.held_by is None and item.line.pk not in asked:
                    return item.line
        return None

    def _delivered_line(self, slug: str, *, asked_at: datetime, quantity: int) -> OrderLine:
        """Place an order of `quantity` units of one of the shop's variants, ship it with the
        demo carrier and let the tracking job deliver it a day before `asked_at`."""
        skus = _buyable_skus_by_shop({slug})[slug]
        sku = skus[(self.placed * 3 + 1) % len(skus)]
        self.placed += 1
        delivered_at = asked_at - timedelta(days=1)
        shipped_at = delivered_at - self.step * 4
        cart_add(cart=self.cart, sku_id=sku.id, quantity=quantity)
        checkout = checkout_place(
            buyer=self.shopper, address=self.address, payment_method=SUCCEEDING_TEST_CARD
        )
        order = _release(
            _placed_at(checkout.orders.get(), shipped_at - self.window - timedelta(hours=3))
        )
        _ship(order, at=shipped_at)
        tracking_poll_due(now=self.clock.now, min_interval=timedelta(0))
        return order.lines.get()

    def ask(
        self,
        slug: str,
        *,
        asked_at: datetime,
        kind: str,
        reason: str,
        description: str,
        quantity: int = 1,
        photos=(),
    ) -> ReturnRequest:
        line = self._free_line(slug, asked_at) if quantity == 1 else None
        if line is None:
            line = self._delivered_line(slug, asked_at=asked_at, quantity=quantity)
        return return_request_create(
            order_id=line.order_id,
            buyer=self.shopper,
            kind=kind,
            reason=reason,
            description=description,
            quantities={line.pk: quantity},
            photos=photos,
            now=asked_at,
        )

    def approve(self, request: ReturnRequest, *, at: datetime) -> None:
        return_approve(
            request_id=request.pk, seller=request.seller, actor=request.seller.owner, now=at
        )

    def reject(self, request: ReturnRequest, *, reason: str, at: datetime) -> None:
        return_reject(
            request_id=request.pk,
            seller=request.seller,
            actor=request.seller.owner,
            reason_text=reason,
            now=at,
        )

    def offer(self, request: ReturnRequest, *, amount_minor: int, at: datetime) -> None:
        return_offer_partial(
            request_id=request.pk,
            seller=request.seller,
            actor=request.seller.owner,
            amount_minor=amount_minor,
            now=at,
        )

    def ship_back(self, request: ReturnRequest, *, at: datetime) -> None:
        return_ship_back(
            request_id=request.pk,
            buyer=self.shopper,
            carrier="demo",
            tracking_number=f"{RETURN_TRACKING_PREFIX}{request.pk:08d}",
            now=at,
        )


def _pay_out(request: ReturnRequest, *, at: datetime) -> None:
    """The gateway's answer to a request's refund (the job that asks it runs after commit)."""
    request.refresh_from_db()
    for refund in Refund.objects.filter(pk=request.refund_id):
        refund_attempt(refund_id=refund.pk, now=at)


def seed_shopper_returns() -> int:
    """The demo shopper's requests, one in each state a person sees (approved and accepted only
    pass by within a step), most of them at the demo seller's shop; returns how many were made."""
    if settings.PAYMENT_GATEWAY != "local":
        return 0  # the orders are paid with the local gateway's test card
    shopper = User.objects.filter(email=DEMO_SHOPPER_EMAIL).first()
    if shopper is None or ReturnRequest.objects.filter(buyer=shopper).exists():
        return 0
    address = BuyerAddress.objects.filter(user=shopper).order_by("id").first()
    shops = {DEMO_SELLER_SLUG, *OTHER_SHOPS}
    if address is None or set(_buyable_skus_by_shop(shops)) != shops:
        return 0
    clock = _Clock(timezone.now())
    ago = clock.ago
    seed = _Seeder(shopper, address, clock)
    sofia, northwind, maple = DEMO_SELLER_SLUG, *OTHER_SHOPS
    R, K = RequestReason, RequestKind
    made: list[ReturnRequest] = []

    def ask(slug: str, asked_at: datetime, kind: str, reason: str, description: str, **extra):
        request = seed.ask(
            slug, asked_at=asked_at, kind=kind, reason=reason, description=description, **extra
        )
        made.append(request)
        return request

    # Closed: approved eleven days ago, never sent back; the job closed it at its deadline.
    closed = ask(
        sofia,
        ago(days=11),
        K.RETURN_AND_REFUND,
        R.CHANGED_MIND,
        "Ordered two to compare; keeping the other one.",
    )
    seed.approve(closed, at=ago(days=11) + timedelta(hours=4))
    closed.refresh_from_db()
    returns_close_unshipped(now=closed.ship_back_by + timedelta(minutes=5))

    # Refunded after a return: sent back, delivered, receipt confirmed a week ago.
    returned = ask(
        sofia,
        ago(days=9),
        K.RETURN_AND_REFUND,
        R.DAMAGED,
        "It came apart after two days of normal use.",
    )
    seed.approve(returned, at=ago(days=9) + timedelta(hours=3))
    seed.ship_back(returned, at=ago(days=8))

    # Refunded at once: a refund only, approved by the shop.
    refunded = ask(
        maple,
        ago(days=6),
        K.REFUND_ONLY,
        R.MISSING_PARTS,
        "A part shown in the listing was missing from the box.",
    )
    seed.approve(refunded, at=ago(days=5, hours=20))
    _pay_out(refunded, at=ago(days=5, hours=20))

    # In dispute: rejected, then escalated by the shopper: the admin's arbitration queue.
    disputed = ask(
        sofia,
        ago(days=5),
        K.REFUND_ONLY,
        R.NOT_AS_DESCRIBED,
        "The material is not what the listing says it is.",
    )
    seed.reject(
        disputed,
        reason="The item is as listed: the label on this batch is a misprint.",
        at=ago(days=4, hours=18),
    )
    return_escalate(
        request_id=disputed.pk,
        party=Party.BUYER,
        user=shopper,
        statement=(
            "The shop says the label is a misprint, but the material is clearly not the one "
            "described. I paid for what the listing promised and would like my money back."
        ),
        now=ago(days=3, hours=22),
    )

    # Return delivered back to the shop a day ago: waiting for the seller to confirm receipt.
    at_shop = ask(
        sofia,
        ago(days=4),
        K.RETURN_AND_REFUND,
        R.WRONG_ITEM,
        "I received a different colour from the one I ordered.",
    )
    seed.approve(at_shop, at=ago(days=3, hours=20))
    seed.ship_back(at_shop, at=ago(days=1))

    # Declined: the shop offered part of the price, the shopper said no (another shop).
    declined = ask(
        northwind,
        ago(days=4, hours=6),
        K.REFUND_ONLY,
        R.DAMAGED,
        "It does not work as it should out of the box.",
    )
    seed.offer(declined, amount_minor=declined.requested_amount_minor // 4, at=ago(days=3))
    return_offer_decline(request_id=declined.pk, buyer=shopper, now=ago(days=2, hours=5))

    # Rejected, with the shop's reason; the shopper may still escalate it.
    rejected = ask(
        sofia,
        ago(days=3),
        K.REFUND_ONLY,
        R.DAMAGED,
        "There is a small tear in it.",
    )
    seed.reject(
        rejected,
        reason=(
            "Our photos before packing show no tear; this looks like wear after delivery. "
            "We are happy to repair it if you send it in."
        ),
        at=ago(days=2, hours=4),
    )

    # Withdrawn by the shopper before sending it back (another shop).
    withdrawn = ask(
        northwind,
        ago(days=3, hours=2),
        K.RETURN_AND_REFUND,
        R.CHANGED_MIND,
        "Bought a second one by mistake.",
    )
    seed.approve(withdrawn, at=ago(days=2, hours=20))
    return_withdraw(request_id=withdrawn.pk, buyer=shopper, now=ago(days=2))

    # Return parcel on its way to the shop: with the carrier for two and a half steps.
    in_transit = ask(
        sofia,
        ago(days=2, hours=12),
        K.RETURN_AND_REFUND,
        R.NOT_AS_DESCRIBED,
        "The colour is much darker than in the photos.",
    )
    seed.approve(in_transit, at=ago(days=2))
    seed.ship_back(in_transit, at=clock.now - seed.step * 2 - seed.step / 2)

    # A partial refund of 30% offered for two units; the shopper has not answered yet.
    offered = ask(
        sofia,
        ago(days=2),
        K.REFUND_ONLY,
        R.MISSING_PARTS,
        "The accessories shown in the listing were missing.",
        quantity=2,
    )
    seed.offer(offered, amount_minor=offered.requested_amount_minor * 3 // 10, at=ago(days=1))

    # Approved a day ago: the shopper still has to send it back.
    to_send = ask(
        sofia,
        ago(days=1, hours=10),
        K.RETURN_AND_REFUND,
        R.CHANGED_MIND,
        "Not what I need after all; I would rather have my money back.",
    )
    seed.approve(to_send, at=ago(hours=22))

    # New this morning: a refund only with a photo, waiting for the seller.
    ask(
        sofia,
        ago(hours=5),
        K.REFUND_ONLY,
        R.DAMAGED,
        "The parcel arrived crushed and the item is broken; photo attached.",
        photos=[demo_photo()],
    )

    # The carrier's news about the return parcels up to now, then the shop's confirmation of the
    # one that arrived a week ago.
    tracking_poll_due(now=clock.now, min_interval=timedelta(0))
    return_confirm_receipt(
        request_id=returned.pk,
        seller=returned.seller,
        actor=returned.seller.owner,
        now=ago(days=7, hours=20),
    )
    _pay_out(returned, at=ago(days=7, hours=20))
    return len(made)


def demo_steps():
    """Called by `manage.py seed_demo` after orders' steps (the delivered orders must exist)."""
    return [(f"return requests of {DEMO_SHOPPER_EMAIL}", seed_shopper_returns)]
