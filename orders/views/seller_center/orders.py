"""Seller Center: the seller's orders (/seller/orders/), read-only for now.

Every view is wrapped in sellers.access.seller_center_view(Section.ORDERS): a role without the
orders section, or a shop not approved yet, gets a 404, and `request.seller` is the seller whose
orders are read. Another seller's order answers 404 (orders.selectors filters by seller).
"""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from marketplace.money import format_bps
from orders.forms import SellerOrderDatesForm
from orders.selectors import (
    SELLER_ORDER_TABS,
    SELLER_ORDER_TABS_BY_KEY,
    SellerOrderFilters,
    seller_order_get,
    seller_order_tab_counts,
    seller_orders,
)
from sellers.access import seller_center_view
from sellers.roles import Section

PAGE_SIZE = 25


def _search_param(request) -> str:
    return " ".join(request.GET.get("q", "").replace("\x00", "").split())[:100]


@seller_center_view(Section.ORDERS, require_approved=True)
@require_safe
def order_list(request):
    seller = request.seller
    now = timezone.now()
    tab = SELLER_ORDER_TABS_BY_KEY.get(request.GET.get("status", ""), SELLER_ORDER_TABS[0])
    search = _search_param(request)
    dates = SellerOrderDatesForm(
        {key: request.GET.get(key, "").replace("\x00", "")[:20] for key in DATE_PARAMS}
    )
    # Bad dates are a message on the page and filter nothing.
    dates_ok = dates.is_valid()
    filters = SellerOrderFilters(
        search=search,
        placed_from=dates.cleaned_data.get("placed_from") if dates_ok else None,
        placed_to=dates.cleaned_data.get("placed_to") if dates_ok else None,
    )
    params = {
        "q": search,
        "placed_from": filters.placed_from.isoformat() if filters.placed_from else "",
        "placed_to": filters.placed_to.isoformat() if filters.placed_to else "",
    }
    counts = seller_order_tab_counts(seller=seller, search=search, filters=filters, now=now)
    tabs = [
        {
            "tab": each,
            "count": counts[each.key],
            "active": each.key == tab.key,
            "query_string": _query_string(status=each.key, **params),
        }
        for each in SELLER_ORDER_TABS
    ]
    orders = seller_orders(seller=seller, status=tab.key, search=search, filters=filters, now=now)
    page_obj = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    filtered = any(params.values())
    context = {
        "seller": seller,
        "tabs": tabs,
        "tab": tab,
        "query": search,
        "dates": dates,
        "date_errors": [] if dates_ok else _date_errors(dates),
        "placed_from": params["placed_from"] or request.GET.get("placed_from", "")[:20],
        "placed_to": params["placed_to"] or request.GET.get("placed_to", "")[:20],
        "filtered": filtered,
        "page_obj": page_obj,
        "orders": page_obj.object_list,
        "query_string": _query_string(status=tab.key, **params),
        "any_orders": counts["all"] > 0 or filtered,
    }
    return render(request, "orders/seller_center/order_list.html", context)


DATE_PARAMS = ("placed_from", "placed_to")


def _query_string(**params) -> str:
    return urlencode({key: value for key, value in params.items() if value})


def _date_errors(form: SellerOrderDatesForm) -> list[str]:
    errors = list(form.non_field_errors())
    for name in DATE_PARAMS:
        for error in form.errors.get(name, []):
            errors.append(f"{form.fields[name].label}: {error}")
    return errors


@seller_center_view(Section.ORDERS, require_approved=True)
@require_safe
def order_detail(request, order_id: int):
    order = seller_order_get(seller=request.seller, order_id=order_id)
    context = {
        "seller": request.seller,
        "order": order,
        "seller_receives_minor": order.total_minor - order.commission_minor,
        "commission_percent": format_bps(order.commission_bps),
    }
    return render(request, "orders/seller_center/order_detail.html", context)
