"""The shopper-facing catalog pages: home, category, search, product and shop pages.

Views parse the query string, call catalog.selectors and shape what the templates show (prices
formatted with Money, image URLs). Every page keeps a constant number of queries however many
products it lists (tests/catalog/test_query_budgets.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from catalog import selectors
from catalog.models import SKU, Product
from marketplace.markdown import render_markdown
from marketplace.money import Money, MoneyParseError
from marketplace.pagecache import cache_anonymous_page
from sellers.selectors import seller_get_open_by_slug

PRODUCTS_PER_PAGE = 24
HOME_PRODUCT_COUNT = 12
FEATURED_CATEGORIES_CACHE_KEY = "catalog:storefront:featured-categories"
FEATURED_CATEGORIES_CACHE_SECONDS = 60
# Counting every match of a broad search or a big category costs a scan of tens of thousands of
# rows on each page view; past this many we say "more than 1,000" and stop paginating there.
RESULT_COUNT_CAP = 1000
# The brand checkboxes come from this many matching products (see storefront_brands).
BRAND_FACET_SCAN = 1000
LOW_STOCK_THRESHOLD = 5

RETURNS_POLICY_SLUG = "returns-and-refunds"
SHIPPING_POLICY_SLUG = "order-shipping"


# --- Shared pieces ------------------------------------------------------------------------------


def _money(amount_minor: int, currency: str) -> str:
    return Money(amount_minor, currency).format()


@dataclass(frozen=True)
class ProductCard:
    """What a product tile in a grid shows, already formatted."""

    url: str
    title: str
    image_url: str
    price_label: str
    brand_name: str
    shop_name: str
    rating_label: str
    rating_count: int
    in_stock: bool


def product_cards(products) -> list[ProductCard]:
    """Cards for products from catalog.selectors.storefront_products (seller, brand and
    `card_image` already loaded: no query here)."""
    cards = []
    for product in products:
        price = _money(product.price_min_minor, product.currency)
        if product.price_max_minor > product.price_min_minor:
            price = f"From {price}"
        cards.append(
            ProductCard(
                url=selectors.product_url(product),
                title=product.title,
                image_url=default_storage.url(product.card_image) if product.card_image else "",
                price_label=price,
                brand_name=product.brand.name if product.brand_id else "",
                shop_name=product.seller.shop_name,
                rating_label=f"{product.rating_x100 / 100:.1f}" if product.rating_count else "",
                rating_count=product.rating_count,
                in_stock=product.in_stock,
            )
        )
    return cards


class CappedPaginator(Paginator):
    """A paginator that counts at most `cap` results (one cheap capped COUNT instead of a count
    of every match), so deep pages of huge result sets are out of reach, as on most shops."""

    def __init__(self, object_list, per_page, *, cap: int = RESULT_COUNT_CAP):
        super().__init__(object_list, per_page)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        # Without ordering (and the search rank it would compute) and over primary keys only.
        counted = self.object_list.order_by().values("pk")[: self.cap + 1].count()
        self.is_capped = counted > self.cap
        return min(counted, self.cap)

    is_capped = False


def _query_string_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


RATING_CHOICES = [("", "Any rating"), ("4", "4 stars & up"), ("3", "3 stars & up")]


class ListingFilterForm(forms.Form):
    """The filters and sort of a category, search or shop page, read from the query string.

    Only parsing lives here; the template draws the inputs. A filter with an error is ignored
    and its error shown next to it, the others still apply. Brands are read separately
    (`_selected_brand_ids`): their checkboxes depend on the other filters.
    """

    min_price = forms.CharField(required=False, max_length=20, label="Min")
    max_price = forms.CharField(required=False, max_length=20, label="Max")
    rating = forms.TypedChoiceField(
        required=False, choices=RATING_CHOICES, coerce=int, empty_value=None, label="Rating"
    )
    in_stock = forms.BooleanField(required=False, label="In stock only")
    sort = forms.ChoiceField(required=False, label="Sort by")

    def __init__(self, data, *, currency: str, sort_choices):
        super().__init__(data)
        self.currency = currency
        self.fields["sort"].choices = sort_choices

    def _parse_price(self, name: str) -> int | None:
        text = self.cleaned_data.get(name, "").strip()
        if not text:
            return None
        try:
            return Money.parse(text, self.currency).amount_minor
        except MoneyParseError as error:
            raise forms.ValidationError(error.message) from None

    def clean_min_price(self):
        return self._parse_price("min_price")

    def clean_max_price(self):
        return self._parse_price("max_price")

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and high < low:
            self.add_error("max_price", "The maximum must be at least the minimum.")
        return cleaned

    def filters(self, *, default_sort: str) -> dict:
        """Keyword arguments for storefront_products from the valid fields (brands aside)."""
        self.is_valid()
        data = self.cleaned_data
        sort = data.get("sort") or default_sort
        return {
            "price_min_minor": data.get("min_price"),
            "price_max_minor": data.get("max_price"),
            "min_rating_x100": (data.get("rating") or 0) * 100 or None,
            "in_stock_only": bool(data.get("in_stock")),
            "sort": sort if sort in selectors.SORTS else default_sort,
        }

    @property
    def has_active_filters(self) -> bool:
        data = self.cleaned_data
        return bool(self.data.getlist("brand")) or any(
            data.get(name) not in (None, "", False)
            for name in ("min_price", "max_price", "rating", "in_stock")
        )


LISTING_SORTS = [choice for choice in selectors.SORT_CHOICES if choice[0] != "relevance"]


def _sort_links(request, sorts, *, current: str) -> list[tuple[str, str, bool]]:
    """(label, query string, is current) per sort: links keep the filters and go to page 1."""
    links = []
    for value, label in sorts:
        params = request.GET.copy()
        params.pop("page", None)
        params["sort"] = value
        links.append((label, params.urlencode(), value == current))
    return links


def _id_from_text(value: str) -> int | None:
    """A database id typed in a query string, or None: isdigit() alone would pass "²", which
    int() refuses, and ids beyond 64 bits, which the database refuses."""
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def _selected_brand_ids(request) -> list[int]:
    ids = (_id_from_text(value) for value in request.GET.getlist("brand"))
    return [brand_id for brand_id in ids if brand_id is not None][:50]


def _listing(request, *, base_filters: dict, with_brands: bool, default_sort, sorts):
    """The filtered, sorted, paginated products of a listing page and its filter form.

    The brand checkboxes come from the products that pass every other filter, so one search
    serves both (a typo-tolerant search is worked out once). Queries: the brands
    (`with_brands`), a capped count and the page, plus what the search itself needs.
    """
    form = ListingFilterForm(
        request.GET, currency=settings.MARKETPLACE_CURRENCY, sort_choices=sorts
    )
    filters = form.filters(default_sort=default_sort)
    selected = _selected_brand_ids(request)
    products = selectors.storefront_products(**base_filters, **filters)
    brands = []
    if with_brands:
        brands = selectors.storefront_brands(
            products=products, selected_ids=selected, scan_limit=BRAND_FACET_SCAN
        )
    if selected:
        products = products.filter(brand_id__in=selected)
    paginator = CappedPaginator(products, PRODUCTS_PER_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    return {
        "form": form,
        # Ids as text: the template would otherwise localize each number on every render.
        "brands": [(str(brand.id), brand.name, brand.id in selected) for brand in brands],
        "sort": filters["sort"],
        "sort_links": _sort_links(request, sorts, current=filters["sort"]),
        "rating_choices": RATING_CHOICES[1:],
        "selected_rating": str(form.cleaned_data.get("rating") or ""),
        "page_obj": page_obj,
        "cards": product_cards(page_obj.object_list),
        "result_count": paginator.count,
        "result_count_capped": paginator.is_capped,
        "query_string": _query_string_without_page(request),
        "currency": settings.MARKETPLACE_CURRENCY,
        "money_example": Money.example(settings.MARKETPLACE_CURRENCY),
    }


# --- Home -------------------------------------------------------------------------------------


@require_safe
@cache_anonymous_page
def home(request):
    newest = selectors.storefront_products(sort=selectors.SORT_NEWEST)[:HOME_PRODUCT_COUNT]
    # Counting every visible product per category reads the whole catalog (36 ms at 100,000
    # products); a count a minute old is as good on a home page, and no product is shown from it.
    featured = cache.get_or_set(
        FEATURED_CATEGORIES_CACHE_KEY,
        selectors.storefront_featured_categories,
        FEATURED_CATEGORIES_CACHE_SECONDS,
    )
    return render(
        request,
        "storefront/home.html",
        {"featured_categories": featured, "cards": product_cards(newest)},
    )


# --- Category and search ------------------------------------------------------------------------


@require_safe
@cache_anonymous_page
def category(request, slug: str):
    tree = selectors.category_tree()
    node = tree.by_slug(slug)
    if node is None:
        raise Http404("No such category.")
    context = _listing(
        request,
        base_filters={"category": node, "tree": tree},
        with_brands=True,
        default_sort=selectors.SORT_NEWEST,
        sorts=LISTING_SORTS,
    )
    context.update(
        {
            "category": node,
            "breadcrumb": tree.path(node.id)[:-1],
            "subcategories": tree.children(node.id),
        }
    )
    return render(request, "catalog/storefront/category.html", context)


SEARCH_SUGGESTIONS = 6


@require_safe
@cache_anonymous_page
def search(request):
    query = selectors.normalize_search_query(request.GET.get("q"))
    if not query:
        tree = selectors.category_tree()
        return render(
            request,
            "catalog/storefront/search.html",
            {"query": "", "suggested_categories": tree.children(None)[:SEARCH_SUGGESTIONS]},
        )
    context = _listing(
        request,
        base_filters={"query": query},
        with_brands=True,
        default_sort=selectors.SORT_RELEVANCE,
        sorts=selectors.SORT_CHOICES,
    )
    context["query"] = query
    if not context["cards"]:
        # Only an empty result pays for the suggestions.
        context["suggested_categories"] = selectors.category_tree().children(None)[
            :SEARCH_SUGGESTIONS
        ]
    return render(request, "catalog/storefront/search.html", context)


# --- Product page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionChoice:
    value: str
    checked: bool
    available: bool  # some active variant with this value is in stock


@dataclass(frozen=True)
class OptionGroup:
    index: int
    name: str
    choices: list[OptionChoice]

    @property
    def param(self) -> str:
        return f"option-{self.index}"


def _option_names(skus: list[SKU]) -> list[str]:
    # Alphabetical: PostgreSQL's jsonb does not keep the order the seller typed the options in,
    # and the form numbers them, so the order must be the same on every database.
    return sorted({name for sku in skus for name in sku.option_values}, key=str.lower)


def _sku_for_options(skus: list[SKU], chosen: dict[str, str], previous: SKU | None) -> SKU | None:
    """The variant matching the chosen option values. When none has them all, the option the
    shopper just changed (the one that differs from the `previous` variant) wins, then the most
    matching values, then stock: changing the colour never lands on nothing."""
    if not chosen:
        return None
    changed = {
        name: value
        for name, value in chosen.items()
        if previous is None or previous.option_values.get(name) != value
    }

    def score(sku: SKU) -> tuple[bool, int, bool]:
        values = sku.option_values
        return (
            all(values.get(name) == value for name, value in changed.items()),
            sum(1 for name, value in chosen.items() if values.get(name) == value),
            sku.stock_on_hand > 0,
        )

    best = max(skus, key=score, default=None)
    return best if best is not None and score(best)[1] else None


def _option_groups(skus: list[SKU], names: list[str], selected: SKU | None) -> list[OptionGroup]:
    groups = []
    for index, name in enumerate(names):
        values: list[str] = []
        in_stock: set[str] = set()
        for sku in skus:
            value = sku.option_values.get(name)
            if value is None:
                continue
            if value not in values:
                values.append(value)
            if sku.stock_on_hand > 0:
                in_stock.add(value)
        current = selected.option_values.get(name) if selected is not None else None
        groups.append(
            OptionGroup(
                index=index,
                name=name,
                choices=[OptionChoice(v, v == current, v in in_stock) for v in values],
            )
        )
    return groups


def stock_label(stock_on_hand: int) -> str:
    if stock_on_hand <= 0:
        return "Sold out"
    if stock_on_hand <= LOW_STOCK_THRESHOLD:
        return f"Only {stock_on_hand} left"
    return "In stock"


def _sku_from_query(request, skus: list[SKU]) -> SKU | None:
    sku_id = _id_from_text(request.GET.get("sku", ""))
    if sku_id is None:
        return None
    return next((sku for sku in skus if sku.pk == sku_id), None)


@require_safe
def product_without_slug(request, product_id: int):
    product = selectors.storefront_visible_products().filter(pk=product_id).only("id", "title")
    product = product.first()
    if product is None:
        raise Http404("No such product.")
    return HttpResponsePermanentRedirect(selectors.product_url(product))


@require_safe
@cache_anonymous_page
def product(request, product_id: int, slug: str):
    detail = selectors.product_detail(product_id=product_id)
    if detail is None:
        raise Http404("No such product.")
    item: Product = detail.product
    canonical_url = selectors.product_url(item)
    if slug != selectors.product_slug(item.title):
        query = request.GET.urlencode()
        return HttpResponsePermanentRedirect(canonical_url + (f"?{query}" if query else ""))

    skus = detail.skus
    names = _option_names(skus)
    chosen = {
        name: request.GET[f"option-{index}"]
        for index, name in enumerate(names)
        if request.GET.get(f"option-{index}")
    }
    if chosen:
        # The variant form names option values; the page's address names the variant.
        picked = _sku_for_options(skus, chosen, previous=_sku_from_query(request, skus))
        if picked is not None:
            target = f"{canonical_url}?{urlencode({'sku': picked.pk})}"
            if not request.htmx:
                return redirect(target)
            selected = picked
        else:
            selected = None
    else:
        selected = _sku_from_query(request, skus)
    if selected is None and len(skus) == 1:
        selected = skus[0]

    currency = item.currency
    if selected is not None:
        price_label = _money(selected.price_minor, currency)
        compare_at_label = (
            _money(selected.compare_at_price_minor, currency)
            if selected.compare_at_price_minor
            else ""
        )
        availability = stock_label(selected.stock_on_hand)
        is_available = selected.stock_on_hand > 0
    else:
        price_label = _money(item.price_min_minor, currency)
        if item.price_max_minor > item.price_min_minor:
            price_label = f"{price_label} – {_money(item.price_max_minor, currency)}"
        compare_at_label = ""
        availability = "In stock" if item.in_stock else "Sold out"
        is_available = item.in_stock

    shipping = getattr(item.seller, "shipping_template", None)
    context = {
        "product": item,
        "canonical_url": canonical_url,
        "category_path": detail.category_path,
        "images": detail.images,
        "skus": skus,
        "selected_sku": selected,
        "option_groups": _option_groups(skus, names, selected) if names else [],
        "price_label": price_label,
        "compare_at_label": compare_at_label,
        "availability": availability,
        "is_available": is_available,
        "is_low_stock": selected is not None and 0 < selected.stock_on_hand <= LOW_STOCK_THRESHOLD,
        "description_html": render_markdown(item.description),
        "seller": item.seller,
        "shipping_fee_label": _money(shipping.flat_fee_minor, shipping.currency)
        if shipping
        else "",
        "free_shipping_label": _money(shipping.free_shipping_threshold_minor, shipping.currency)
        if shipping and shipping.free_shipping_threshold_minor is not None
        else "",
        "returns_policy_url": reverse("policies:detail", args=[RETURNS_POLICY_SLUG]),
        "shipping_policy_url": reverse("policies:detail", args=[SHIPPING_POLICY_SLUG]),
        "ip_report_url": f"/ip/report/{item.pk}/",
        "rating_label": f"{item.rating_x100 / 100:.1f}" if item.rating_count else "",
    }
    response = render(request, "catalog/storefront/product.html", context)
    if request.htmx and chosen and selected is not None:
        response["HX-Push-Url"] = f"{canonical_url}?{urlencode({'sku': selected.pk})}"
    return response


# --- Shop page --------------------------------------------------------------------------------


@require_safe
@cache_anonymous_page
def shop_detail(request, slug: str):
    # Only an approved shop has a public page; draft, submitted, suspended or closed shops answer
    # 404, exactly like a shop that never existed.
    seller = seller_get_open_by_slug(slug=slug)
    if seller is None:
        raise Http404("No such shop.")
    context = _listing(
        request,
        base_filters={"seller": seller},
        with_brands=False,
        default_sort=selectors.SORT_NEWEST,
        sorts=LISTING_SORTS,
    )
    context["seller"] = seller
    return render(request, "catalog/storefront/shop.html", context)
