"""Storefront reads: what shoppers may see, how they browse it and how they search it.

Every storefront query starts from `storefront_visible_products()`: live products of approved
sellers, filtered in the database, so a suspended or closed seller's products vanish from every
page the moment the seller's status changes (no cache, no Python-side filtering to forget).

Listing pages read only the denormalized product row (price range, stock, rating, search text kept
by catalog.services.products) plus the seller, the brand and the first image path in the same
query, so a page of 24 products costs the same number of queries as a page of 5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.urls import get_script_prefix, reverse
from django.utils.text import slugify

from catalog.models import SKU, Brand, Product, ProductImage, ProductStatus
from policies.models import Category, PolicyStatus
from sellers.models import SellerStatus

SORT_RELEVANCE = "relevance"
SORT_NEWEST = "newest"
SORT_PRICE_ASC = "price_asc"
SORT_PRICE_DESC = "price_desc"
SORT_RATING = "rating"
SORT_CHOICES = [
    (SORT_RELEVANCE, "Best match"),
    (SORT_NEWEST, "Newest"),
    (SORT_PRICE_ASC, "Price: low to high"),
    (SORT_PRICE_DESC, "Price: high to low"),
    (SORT_RATING, "Top rated"),
]
SORTS = frozenset(value for value, _ in SORT_CHOICES)

# The id is the final tie-breaker everywhere: pagination over equal prices or dates stays stable.
_ORDERINGS = {
    SORT_NEWEST: ("-published_at", "-id"),
    SORT_PRICE_ASC: ("price_min_minor", "id"),
    SORT_PRICE_DESC: ("-price_min_minor", "-id"),
    SORT_RATING: ("-rating_x100", "-rating_count", "-id"),
}


# --- The category tree ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryNode:
    id: int
    name: str
    slug: str
    parent_id: int | None
    policy_status: str

    @property
    def url(self) -> str:
        return reverse("catalog:category", args=[self.slug])


@dataclass(frozen=True)
class CategoryTree:
    """The whole category tree from one query; small (hundreds of rows) and read by every page
    that shows a breadcrumb, subcategories or filters by a subtree."""

    nodes: dict[int, CategoryNode]
    children_ids: dict[int | None, list[int]] = field(repr=False)

    def by_slug(self, slug: str) -> CategoryNode | None:
        return next((node for node in self.nodes.values() if node.slug == slug), None)

    def children(self, category_id: int | None) -> list[CategoryNode]:
        return [self.nodes[child] for child in self.children_ids.get(category_id, [])]

    def subtree_ids(self, category_id: int) -> list[int]:
        """The category and all its descendants, at any depth."""
        found, frontier = [], [category_id]
        while frontier:
            current = frontier.pop()
            found.append(current)
            frontier.extend(self.children_ids.get(current, []))
        return found

    def path(self, category_id: int) -> list[CategoryNode]:
        """From the root down to the category itself (a breadcrumb)."""
        path, current, seen = [], self.nodes.get(category_id), set()
        while current is not None and current.id not in seen:  # a cycle would be a data bug
            seen.add(current.id)
            path.append(current)
            current = self.nodes.get(current.parent_id) if current.parent_id else None
        return list(reversed(path))


def category_tree() -> CategoryTree:
    """Every category, as a tree. One query."""
    nodes: dict[int, CategoryNode] = {}
    children_ids: dict[int | None, list[int]] = {}
    rows = Category.objects.order_by("position", "name").values_list(
        "id", "name", "slug", "parent_id", "policy_status"
    )
    for category_id, name, slug, parent_id, policy_status in rows:
        nodes[category_id] = CategoryNode(category_id, name, slug, parent_id, policy_status)
        children_ids.setdefault(parent_id, []).append(category_id)
    return CategoryTree(nodes=nodes, children_ids=children_ids)


# --- The storefront-visibility rule ---------------------------------------------------------------
# What a shopper may ever see: a live product of an approved (not suspended, not closed) seller.
# This is the one place the rule is written: `storefront_visible_q` for queries (from a product or,
# with a prefix, through a relation to products) and `product_is_storefront_visible` for a product
# already loaded with its seller. Listings, search, product pages, featured categories, IP reports
# and the cart's "still for sale" check (orders.services.stock.sku_is_buyable) all use these two.


def storefront_visible_q(prefix: str = "") -> Q:
    """The rule as a filter. `prefix` is the path from the queried model to the product
    ("products__" when counting a category's products); empty when querying products."""
    return Q(
        **{f"{prefix}status": ProductStatus.LIVE, f"{prefix}seller__status": SellerStatus.APPROVED}
    )


def product_is_storefront_visible(product: Product) -> bool:
    """The rule for a product in memory (its seller loaded, or it costs a query)."""
    return product.status == ProductStatus.LIVE and product.seller.status == SellerStatus.APPROVED


def storefront_visible_products() -> QuerySet[Product]:
    """Every product a shopper may see (the rule above); every storefront query starts here."""
    return Product.objects.filter(storefront_visible_q())


# --- Listing --------------------------------------------------------------------------------------


def _first_image_path() -> Subquery:
    # The card image in the same query as the product (a correlated subquery over the product's
    # images, first by position): a prefetch would cost one more query, a join would repeat rows.
    first = (
        ProductImage.objects.filter(product=OuterRef("pk"))
        .order_by("position", "id")
        .annotate(
            card_path=Case(When(thumbnail="", then=F("image")), default=F("thumbnail")),
        )
        .values("card_path")[:1]
    )
    return Subquery(first)


# Search on PostgreSQL works in one of three ways, chosen by how many products match the words
# as typed (full text, stemmed, anywhere in the search text):
#  - fewer than a page (TYPO_TOLERANCE_BELOW): add near matches of the title (typos);
#  - up to BROAD_QUERY_MATCHES: rank every match (the words in the title first);
#  - more: newest first. Ranking costs a computation per match (120 ms for 30,000 matches at
#    100,000 products); newest first walks an index and stops after a page.
TYPO_TOLERANCE_BELOW = 24
BROAD_QUERY_MATCHES = 2000
# At most this many typo-tolerant matches are collected (results past it are not worth paging to).
TYPO_MATCH_LIMIT = 1000
# Words that carry no meaning in a product search; they are not matched word by word.
STOP_WORDS = frozenset({"a", "an", "and", "by", "for", "from", "in", "of", "on", "or", "the",
                        "to", "with"})  # fmt: skip
MAX_QUERY_WORDS = 6
NEWEST_FIRST = ("-published_at", "-id")


def _query_words(query: str) -> list[str]:
    words = ("".join(c if c.isalnum() else " " for c in query.lower())).split()
    return [w for w in words if len(w) >= 3 and w not in STOP_WORDS][:MAX_QUERY_WORDS]


def _search(products: QuerySet[Product], query: str) -> tuple[QuerySet[Product], tuple]:
    """The products matching a shopper's words, and the ordering that puts the most relevant
    first. The one place that knows which database we are on.

    On PostgreSQL this runs one or two queries to choose its way (see the comment above); with
    typos, the matches are collected once, best first, and the result is those ids, so counting,
    brand checkboxes and the page do not repeat the fuzzy matching.
    """
    if connection.vendor == "postgresql":
        # Imported here: the module loads on SQLite too, where these functions do not exist.
        from django.contrib.postgres.fields import ArrayField
        from django.contrib.postgres.lookups import TrigramStrictWordSimilar
        from django.contrib.postgres.search import (
            SearchQuery,
            SearchRank,
            SearchVector,
            SearchVectorExact,
            TrigramStrictWordSimilarity,
        )

        # The vector expression is exactly the one migration 0002 indexes, so PostgreSQL
        # answers from the index without reading the rows it rejects.
        words = SearchQuery(query, config="english", search_type="websearch")
        full_text = SearchVector("search_text", config="english")
        exact = products.filter(SearchVectorExact(full_text, words))
        exact_ids = list(exact.order_by().values_list("pk", flat=True)[:TYPO_TOLERANCE_BELOW])
        if len(exact_ids) >= TYPO_TOLERANCE_BELOW:
            if exact.order_by().values("pk")[BROAD_QUERY_MATCHES : BROAD_QUERY_MATCHES + 1]:
                return exact, NEWEST_FIRST
            # Ranked over the short title: ranking the whole search text would rebuild its
            # vector for every match.
            title_rank = SearchRank(SearchVector("title", config="english"), words)
            return exact, (title_rank.desc(), *NEWEST_FIRST)

        # Few or no exact matches: add titles in which every word of the query nearly matches a
        # word, by trigram similarity through the trigram index of migration 0002 and the `%>>`
        # operator, at pg_trgm's strict_word_similarity_threshold (0.5): "hedphones" scores 0.62
        # against "Wireless headphones" and matches; "lamp" scores 0.43 against "lamb" and does
        # not. Word by word, each condition narrows the index scans of the others.
        near = Q()
        for word in _query_words(query):
            near &= Q(TrigramStrictWordSimilar(F("title"), Value(word)))
        ordering = [TrigramStrictWordSimilarity(query, "title").desc(), *NEWEST_FIRST]
        if exact_ids:
            # Exact matches first, by rank (computed for them only), then the nearest titles.
            rank = SearchRank(full_text, words)
            ordering.insert(0, Case(When(pk__in=exact_ids, then=rank), default=Value(-1.0)).desc())
        ranked_ids = list(
            products.filter(Q(pk__in=exact_ids) | near if near else Q(pk__in=exact_ids))
            .order_by(*ordering)
            .values_list("pk", flat=True)[:TYPO_MATCH_LIMIT]
        )
        id_array = ArrayField(BigIntegerField())
        position = Func(
            Cast(Value(ranked_ids, output_field=id_array), id_array),
            F("pk"),
            function="array_position",
            output_field=BigIntegerField(),
        )
        return products.filter(pk__in=ranked_ids), (position.asc(),)

    # SQLite (the embedded development default): every word must appear somewhere in the search
    # text; a product whose title holds the whole query comes first.
    for word in query.split():
        products = products.filter(search_text__icontains=word)
    title_hit = Case(When(title__icontains=query, then=Value(1)), default=Value(0))
    return products, (title_hit.desc(), *NEWEST_FIRST)


def normalize_search_query(text: str | None) -> str:
    """What we search for: the shopper's words, trimmed, whitespace collapsed, at most 100
    characters (longer queries only cost time). A hyphen inside a word becomes a space: to full
    text search "heavy-duty" is a phrase, which its index cannot answer without reading every
    candidate row, while "heavy duty" finds the same products from the index alone."""
    # NUL cannot travel in a PostgreSQL string; nobody means to search for it.
    text = re.sub(r"(?<=\w)-(?=\w)", " ", (text or "").replace("\x00", " "))
    return " ".join(text.split())[:100]


CARD_FIELDS = (
    "id",
    "status",
    "title",
    "currency",
    "price_min_minor",
    "price_max_minor",
    "in_stock",
    "rating_x100",
    "rating_count",
    "published_at",
    "category_id",
    "seller__id",
    "seller__status",
    "seller__shop_name",
    "seller__slug",
    "brand__id",
    "brand__name",
)


def storefront_products(
    *,
    category: Category | CategoryNode | None = None,
    tree: CategoryTree | None = None,
    seller=None,
    query: str | None = None,
    price_min_minor: int | None = None,
    price_max_minor: int | None = None,
    brand_ids: list[int] | None = None,
    min_rating_x100: int | None = None,
    in_stock_only: bool = False,
    sort: str = SORT_NEWEST,
) -> QuerySet[Product]:
    """Visible products for a listing page, filtered and sorted, with the seller, the brand and
    the first image path (`card_image`) in the same query.

    `category` includes its descendants (one query over the category tree, or none when the
    caller passes the `tree` it already loaded). `query` searches (see `_search`); without a query,
    the relevance sort falls back to newest. Prices are in minor units and compare with the
    product's lowest price, the one its card shows.
    """
    products = storefront_visible_products()
    if category is not None:
        tree = tree or category_tree()
        products = products.filter(category_id__in=tree.subtree_ids(category.id))
    if seller is not None:
        products = products.filter(seller=seller)
    if price_min_minor is not None:
        products = products.filter(price_min_minor__gte=price_min_minor)
    if price_max_minor is not None:
        products = products.filter(price_min_minor__lte=price_max_minor)
    if brand_ids:
        products = products.filter(brand_id__in=brand_ids)
    if min_rating_x100:
        products = products.filter(rating_x100__gte=min_rating_x100)
    if in_stock_only:
        products = products.filter(in_stock=True)

    ordering = _ORDERINGS.get(sort, _ORDERINGS[SORT_NEWEST])
    query = normalize_search_query(query)
    if query:
        products, relevance = _search(products, query)
        if sort == SORT_RELEVANCE:
            ordering = relevance
    return (
        products.select_related("seller", "brand")
        # What a product card shows: leaving out the description and the search text (the
        # longest columns) halves the page query's transfer and model building.
        .only(*CARD_FIELDS)
        .annotate(card_image=_first_image_path())
        .order_by(*ordering)
    )


@dataclass(frozen=True)
class BrandOption:
    id: int
    name: str
    product_count: int  # among the products looked at


def storefront_brands(
    *, products: QuerySet[Product], selected_ids=(), scan_limit: int = 1000, limit: int = 20
) -> list[BrandOption]:
    """The brand checkboxes of a listing: the `limit` most frequent brands among `products` (a
    storefront_products queryset, before any brand filter), by name, always including the brands
    already selected. One query (two when a selected brand is not among them).

    Only the first `scan_limit` products are looked at: a broad search or a big category has tens
    of thousands, and the list is a shortcut, not an inventory.
    """
    found: list[BrandOption] = []
    try:
        inner_sql, inner_params = products.order_by().values("brand_id").query.sql_with_params()
    except EmptyResultSet:  # a search that matched nothing: nothing to count
        inner_sql = None
    if inner_sql is not None:
        brand_table = connection.ops.quote_name(Brand._meta.db_table)
        # Counting over a LIMITed subquery is beyond the ORM; the inner query is the ORM's own.
        sql = (
            f"SELECT brand.id, brand.name, COUNT(*) FROM ({inner_sql} LIMIT %s) scanned "  # noqa: S608
            f"JOIN {brand_table} brand ON brand.id = scanned.brand_id "
            "GROUP BY brand.id, brand.name"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, (*inner_params, scan_limit))
            found = [BrandOption(*row) for row in cursor.fetchall()]
    selected = {int(brand_id) for brand_id in selected_ids}
    found.sort(key=lambda brand: (brand.id not in selected, -brand.product_count, brand.name))
    shown = found[:limit]
    missing = selected - {brand.id for brand in shown}
    if missing:
        shown += [BrandOption(b.id, b.name, 0) for b in Brand.objects.filter(id__in=missing)]
    return sorted(shown, key=lambda brand: brand.name.lower())


def storefront_featured_categories() -> list[tuple[CategoryNode, int]]:
    """Top-level categories that have visible products, with how many (a subcategory's products
    count for its top-level category), in the tree's order. One query: every category with its
    own count, rolled up to the roots here."""
    visible = storefront_visible_q("products__")
    rows = Category.objects.order_by("position", "name").annotate(
        live_count=Count("products", filter=visible)
    )
    nodes: dict[int, CategoryNode] = {}
    children_ids: dict[int | None, list[int]] = {}
    own_counts: dict[int, int] = {}
    for category in rows:
        nodes[category.id] = CategoryNode(
            category.id, category.name, category.slug, category.parent_id, category.policy_status
        )
        children_ids.setdefault(category.parent_id, []).append(category.id)
        own_counts[category.id] = category.live_count
    tree = CategoryTree(nodes=nodes, children_ids=children_ids)
    featured = []
    for root in tree.children(None):
        if root.policy_status == PolicyStatus.PROHIBITED:
            continue
        total = sum(own_counts[category_id] for category_id in tree.subtree_ids(root.id))
        if total:
            featured.append((root, total))
    return featured


# --- One product ----------------------------------------------------------------------------------


def product_slug(title: str) -> str:
    return slugify(title)[:80].strip("-") or "product"


def product_url(product: Product) -> str:
    """The canonical storefront address of a product (/p/<id>/<slug>/); other apps link with it."""
    return f"{_product_url_prefix(get_script_prefix())}{product.pk}/{product_slug(product.title)}/"


@lru_cache(maxsize=16)
def _product_url_prefix(script_prefix: str) -> str:
    # reverse() costs ~75 µs and a listing page links 24 products: reverse once, then format.
    sample = reverse("catalog:product", args=[1, "x"])
    if not sample.endswith("/1/x/"):  # the URL pattern changed shape: fail loudly in tests
        raise ImproperlyConfigured(f"catalog:product must end with /<id>/<slug>/, not {sample}")
    return sample.removesuffix("1/x/")


@dataclass(frozen=True)
class ProductDetail:
    product: Product
    skus: list[SKU]
    images: list[ProductImage]
    category_path: list[CategoryNode]  # root first, the product's own category last


def product_detail(*, product_id: int) -> ProductDetail | None:
    """A visible product with its active SKUs, images, seller (and the seller's shipping
    template), brand and category path; None when the product does not exist or is not visible.
    Four queries."""
    product = (
        storefront_visible_products()
        .select_related("seller", "seller__shipping_template", "brand")
        .prefetch_related(
            Prefetch("skus", queryset=SKU.objects.filter(is_active=True), to_attr="active_skus"),
            "images",
        )
        .filter(pk=product_id)
        .first()
    )
    if product is None:
        return None
    return ProductDetail(
        product=product,
        skus=product.active_skus,
        images=list(product.images.all()),
        category_path=category_tree().path(product.category_id),
    )


# --- Seller Center and admin reads ---------------------------------------------------------------


class JSONArrayLength(Func):
    """The length of a JSON array column, counted by the database."""

    function = "JSON_ARRAY_LENGTH"
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_ARRAY_LENGTH", **extra_context)


def bulk_uploads_with_rejected_count(queryset):
    """Uploads for a list: `rejected_count` counted in the database and the rejected rows left
    unread. A finished upload of 5,000 rows carries up to 5,000 report entries; a page of 25
    would otherwise load megabytes of JSON to print 25 numbers."""
    return queryset.defer("rejected_rows").annotate(
        rejected_count=Coalesce(JSONArrayLength("rejected_rows"), Value(0))
    )
