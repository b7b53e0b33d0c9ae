"""Seller Center: the seller's orders (/seller/orders/), read-only for now.

Every view is wrapped in sellers.access.seller_center_view(Section.ORDERS): a role without the
orders section, or a shop not approved yet, gets a 404, and `request.seller` is the seller whose
orders are read. Another seller's order answers 404 (orders.selectors filters by seller).
"""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from orders.selectors import (
    SELLER_ORDER_TABS,
    SELLER_ORDER_TABS_BY_KEY,
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
    tab = SELLER_ORDER_TABS_BY_KEY.get(request.GET.get("status", ""), SELLER_ORDER_TABS[0])
    search = _search_param(request)
    counts = seller_order_tab_counts(seller=seller, search=search)
    tabs = [
        {
            "tab": each,
            "count": counts[each.key],
            "active": each.key == tab.key,
            "query_string": urlencode(
                {key: value for key, value in (("status", each.key), ("q", search)) if value}
            ),
        }
        for each in SELLER_ORDER_TABS
    ]
    orders = seller_orders(seller=seller, status=tab.key, search=search)
    page_obj = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = {"status": tab.key, "q": search}
    context = {
        "seller": seller,
        "tabs": tabs,
        "tab": tab,
        "query": search,
        "page_obj": page_obj,
        "orders": page_obj.object_list,
        "query_string": urlencode({key: value for key, value in filters.items() if value}),
        "any_orders": counts["all"] > 0 or bool(search),
    }
    return render(request, "orders/seller_center/order_list.html", context)


@seller_center_view(Section.ORDERS, require_approved=True)
@require_safe
def order_detail(request, order_id: int):
    order = seller_order_get(seller=request.seller, order_id=order_id)
    context = {
        "seller": request.seller,
        "order": order,
        "seller_receives_minor": order.total_minor - order.commission_minor,
        "commission_percent": f"{order.commission_bps / 100:g}%",
    }
    return render(request, "orders/seller_center/order_detail.html", context)
