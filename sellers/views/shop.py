"""The public shop page on the storefront (/shop/<slug>/)."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sellers.selectors import seller_get_open_by_slug


@require_GET
def shop_detail(request, slug: str):
    # Only an approved shop has a public page; draft, submitted, suspended or closed shops answer
    # 404, exactly like a shop that never existed.
    seller = seller_get_open_by_slug(slug=slug)
    if seller is None:
        raise Http404("No such shop.")
    return render(request, "sellers/shop/detail.html", {"seller": seller})
