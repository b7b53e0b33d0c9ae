from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from orders.selectors import buyer_order_get, buyer_orders


@login_required
def order_list(request):
    page = Paginator(buyer_orders(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "orders/order_list.html", {"page_obj": page, "orders": page.object_list})


@login_required
def order_detail(request, order_id: int):
    order = buyer_order_get(user=request.user, order_id=order_id)
    return render(request, "orders/order_detail.html", {"order": order})
