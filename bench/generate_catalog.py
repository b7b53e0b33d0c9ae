"""Build a large catalog for the storefront benchmark: approved sellers, live products with
realistic, varied titles (brand, style, material, product, colour from word lists), three SKUs
each, one image row each.

    createdb -h 127.0.0.1 -U postgres marketplace_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/marketplace_bench
    DJANGO_DEBUG=1 .venv/bin/python manage.py migrate
    .venv/bin/python bench/generate_catalog.py --products 100000

Bench data bypasses the services on purpose (they create one product at a time with screening
and an audit row); it sets the denormalized listing fields (price range, stock, search text) the
same way catalog.services.products.product_refresh_listing_fields does, and inserts with
bulk_create in batches. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
# Bench scripts run with DEBUG off (like production) and need no real secret.
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "x" * 40)

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from catalog.models import SKU, Brand, Product, ProductImage, ProductStatus  # noqa: E402
from marketplace.accounts.models import User  # noqa: E402
from marketplace.progress import ProgressBar  # noqa: E402
from policies.demo import seed_policies  # noqa: E402
from policies.models import Category, PolicyStatus  # noqa: E402
from sellers.models import Seller, SellerStatus, ShippingTemplate  # noqa: E402

BATCH_SIZE = 5_000
BENCH_SLUG_PREFIX = "bench-"

# What sells in each leaf of the seed category tree (policies.demo.CATEGORY_TREE).
NOUNS = {
    "womens-clothing": ["dress", "blouse", "skirt", "cardigan", "jumpsuit", "blazer", "tunic",
                        "camisole", "trench coat", "jeans", "leggings", "sweater"],
    "mens-clothing": ["shirt", "polo", "chinos", "hoodie", "jacket", "overshirt", "t-shirt",
                      "sweatshirt", "trousers", "parka", "vest", "shorts"],
    "shoes": ["sneakers", "loafers", "boots", "sandals", "trainers", "brogues", "slippers",
              "espadrilles", "running shoes", "chelsea boots"],
    "bags-accessories": ["backpack", "tote bag", "wallet", "belt", "scarf", "beanie", "sunglasses",
                         "crossbody bag", "watch strap", "duffel bag", "card holder"],
    "phones": ["phone case", "screen protector", "charging cable", "wireless charger",
               "phone stand", "power bank", "car mount", "phone grip"],
    "audio": ["headphones", "earbuds", "bluetooth speaker", "soundbar", "turntable",
              "microphone", "headphone stand", "amplifier", "radio"],
    "computers": ["keyboard", "mouse", "laptop sleeve", "monitor stand", "usb hub", "webcam",
                  "docking station", "mouse pad", "laptop stand", "external drive"],
    "kitchen": ["teapot", "frying pan", "chef knife", "cutting board", "saucepan", "french press",
                "mixing bowl", "espresso cup", "dutch oven", "spice grinder", "kettle"],
    "decor": ["vase", "candle", "wall clock", "picture frame", "throw pillow", "table lamp",
              "mirror", "planter", "rug", "wall art", "bookends"],
    "bedding": ["duvet cover", "pillowcase", "fitted sheet", "blanket", "quilt", "throw",
                "mattress topper", "pillow", "bedspread"],
    "fitness-equipment": ["yoga mat", "dumbbells", "kettlebell", "resistance bands",
                          "jump rope", "foam roller", "pull-up bar", "exercise ball"],
    "toys-games": ["puzzle", "board game", "building blocks", "plush bear", "card game",
                   "wooden train", "kite", "doll house", "science kit"],
    "sports-outdoors": ["tent", "sleeping bag", "water bottle", "hiking poles", "camping stove",
                        "headlamp", "cooler", "hammock", "bike light", "climbing chalk bag"],
    "books-media": ["notebook", "journal", "cookbook", "sketchbook", "planner", "art print",
                    "poster", "photo book", "colouring book"],
}  # fmt: skip
STYLES = ["classic", "everyday", "vintage", "modern", "minimal", "rustic", "premium", "compact",
          "lightweight", "oversized", "handmade", "organic", "recycled", "waterproof", "deluxe",
          "slim", "soft", "heavy-duty", "portable", "foldable", "retro", "nordic", "urban",
          "coastal", "studio", "travel", "limited edition", "signature", "essential", "heritage"]  # fmt: skip
TEXTILES = ["linen", "cotton", "wool", "merino", "denim", "velvet", "corduroy", "hemp", "silk",
            "fleece", "canvas", "jersey"]  # fmt: skip
HARD = ["oak", "walnut", "bamboo", "ceramic", "stoneware", "glass", "steel", "aluminium",
        "cast iron", "copper", "brass", "porcelain", "cork", "rattan", "marble"]  # fmt: skip
TECH = ["aluminium", "silicone", "leather", "steel", "recycled plastic", "fabric", "walnut",
        "carbon fibre"]  # fmt: skip
GEAR = ["nylon", "ripstop", "steel", "aluminium", "neoprene", "rubber", "cork", "canvas"]  # fmt: skip
PAPER = ["paperback", "hardcover", "recycled paper", "linen-bound", "spiral-bound"]  # fmt: skip
# Which materials make sense for each category's products.
MATERIALS_BY_CATEGORY = {
    "womens-clothing": TEXTILES, "mens-clothing": TEXTILES,
    "shoes": ["leather", "suede", "canvas", "rubber", "wool", "knit"],
    "bags-accessories": ["leather", "canvas", "nylon", "suede", "wool", "cork"],
    "phones": TECH, "audio": TECH, "computers": TECH,
    "kitchen": HARD, "decor": HARD, "bedding": TEXTILES,
    "fitness-equipment": GEAR, "toys-games": ["wooden", "plush", "cardboard", "felt", "bamboo"],
    "sports-outdoors": GEAR, "books-media": PAPER,
}  # fmt: skip
MATERIALS = sorted({material for group in MATERIALS_BY_CATEGORY.values() for material in group})
COLOURS = ["black", "white", "navy", "olive", "sand", "charcoal", "terracotta", "sage", "cream",
           "burgundy", "mustard", "sky blue", "forest green", "blush", "grey", "rust", "teal"]  # fmt: skip
SIZES = ["XS", "S", "M", "L", "XL"]
BRAND_FIRST = ["North", "Ever", "Blue", "Oak", "Stone", "Silver", "Iron", "Wild", "Bright",
               "Little", "Golden", "Red", "True", "Sea", "Pine", "Cloud", "Maple", "Fox", "Owl",
               "River"]  # fmt: skip
BRAND_SECOND = ["wind", "field", "craft", "works", "line", "form", "leaf", "peak", "haven",
                "stone", "light", "wood", "wave", "fern", "ridge"]  # fmt: skip
SHOP_NOUNS = ["Studio", "Supply", "Goods", "Workshop", "Co.", "House", "Market", "Atelier",
              "Trading", "Collective"]  # fmt: skip
FEATURES = [
    "Made to last and easy to care for.",
    "Designed in small batches by an independent maker.",
    "Ships in recycled packaging.",
    "A favourite of our regular customers.",
    "Comes with a two-year warranty.",
    "Tested for everyday use.",
    "Machine washable at 30 degrees.",
    "Each piece is slightly different.",
]
COUNTRIES = ["US", "GB", "DE", "FR", "PT", "ES", "IT", "NL", "SE", "CA", "AU", "JP"]


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--sellers", type=int, default=500)
    parser.add_argument("--skus-per-product", type=int, default=3)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--reset",
        action="store_true",
        help="First delete every product (and what hangs off it) and the bench sellers. Only on "
        "a database whose name contains 'bench'.",
    )
    return parser.parse_args()


def reset_catalog() -> None:
    name = connection.settings_dict["NAME"] or ""
    if "bench" not in str(name) or connection.vendor != "postgresql":
        sys.exit(f"--reset only runs on a PostgreSQL database named *bench*, not {name!r}.")
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE catalog_product, catalog_sku, catalog_productimage, catalog_brand CASCADE"
        )
    bench_sellers = Seller.objects.filter(slug__startswith=BENCH_SLUG_PREFIX)
    owner_ids = list(bench_sellers.values_list("owner_id", flat=True))
    ShippingTemplate.objects.filter(seller__in=bench_sellers).delete()
    bench_sellers.delete()
    User.objects.filter(pk__in=owner_ids).delete()


def leaf_categories() -> list[tuple[Category, list[str]]]:
    """Allowed categories we have product words for, with their path names (root first)."""
    by_id = {category.pk: category for category in Category.objects.all()}
    leaves = []
    for category in by_id.values():
        if category.slug not in NOUNS or category.policy_status != PolicyStatus.ALLOWED:
            continue
        path, current = [], category
        while current is not None:
            path.append(current.name)
            current = by_id.get(current.parent_id)
        leaves.append((category, list(reversed(path))))
    return sorted(leaves, key=lambda pair: pair[0].pk)


def create_brands(rng: random.Random) -> list[Brand]:
    names = [first + second for first in BRAND_FIRST for second in BRAND_SECOND]
    rng.shuffle(names)
    existing = set(Brand.objects.values_list("normalized_name", flat=True))
    new = [
        Brand(name=name, normalized_name=name.lower(), slug=f"{BENCH_SLUG_PREFIX}{name.lower()}")
        for name in names[:200]
        if name.lower() not in existing
    ]
    Brand.objects.bulk_create(new)
    return list(Brand.objects.filter(slug__startswith=BENCH_SLUG_PREFIX))


def create_sellers(rng: random.Random, count: int) -> list[Seller]:
    now = timezone.now()
    start = Seller.objects.filter(slug__startswith=BENCH_SLUG_PREFIX).count()
    users = User.objects.bulk_create(
        User(email=f"bench-seller-{start + n}@bench.test", full_name=f"Bench seller {start + n}",
             password=make_password(None))  # unusable: nobody signs in as a bench seller
        for n in range(count)
    )  # fmt: skip
    sellers = []
    for offset, user in enumerate(users):
        number = start + offset
        name = f"{rng.choice(BRAND_FIRST)} {rng.choice(SHOP_NOUNS)} {number}"
        sellers.append(
            Seller(
                owner=user,
                kind=Seller.Kind.BUSINESS,
                status=SellerStatus.APPROVED,
                shop_name=name,
                slug=f"{BENCH_SLUG_PREFIX}shop-{number}",
                legal_name=f"{name} Ltd",
                contact_email=user.email,
                contact_phone="+1 555 0100",
                country=rng.choice(COUNTRIES),
                address_line1="1 Bench Street",
                city="Springfield",
                postal_code="12345",
                description=f"{name}: {rng.choice(FEATURES)}",
                submitted_at=now - timedelta(days=400),
                approved_at=now - timedelta(days=rng.randint(30, 900)),
            )
        )
    sellers = Seller.objects.bulk_create(sellers)
    ShippingTemplate.objects.bulk_create(
        ShippingTemplate(
            seller=seller,
            flat_fee_minor=rng.choice([0, 299, 399, 495, 599]),
            free_shipping_threshold_minor=rng.choice([None, 3500, 5000, 7500]),
        )
        for seller in sellers
    )
    return sellers


def product_rows(rng, count, *, sellers, brands, leaves, skus_per_product, now):
    """(Product, [SKU without product], image path) triples, built in memory."""
    for number in range(count):
        category, path = (
            leaves[number % len(leaves)] if number < len(leaves) else rng.choice(leaves)
        )
        noun = rng.choice(NOUNS[category.slug])
        style, material = rng.choice(STYLES), rng.choice(MATERIALS_BY_CATEGORY[category.slug])
        brand = rng.choice(brands) if rng.random() < 0.85 else None
        title = f"{style.capitalize()} {material} {noun}"
        if brand is not None:
            title = f"{brand.name} {title}"
        if rng.random() < 0.4:
            title = f"{title}, {rng.choice(COLOURS)}"
        description = (
            f"A {style} {noun} in {material}. {rng.choice(FEATURES)} {rng.choice(FEATURES)}"
        )
        # The same text catalog.services.products.product_search_text builds.
        search_text = " ".join(
            part for part in [title, brand.name if brand else "", *reversed(path), description]
            if part
        ).lower()  # fmt: skip
        base_price = rng.randint(5, 250) * 100 - rng.choice([0, 1, 5, 10])
        colours = rng.sample(COLOURS, k=skus_per_product)
        skus = []
        for position, colour in enumerate(colours):
            price = base_price + position * rng.choice([0, 0, 200, 500])
            options = {"Colour": colour.capitalize()}
            if category.slug.endswith("clothing") or category.slug == "shoes":
                options["Size"] = SIZES[position % len(SIZES)]
            skus.append(
                SKU(
                    seller_sku=f"B{number}-{position}",
                    option_values=options,
                    price_minor=price,
                    compare_at_price_minor=price + 1000 if rng.random() < 0.2 else None,
                    stock_on_hand=rng.choice([0, 2, 4, 10, 25, 60, 150]),
                    weight_grams=rng.randint(50, 3000),
                    position=position,
                )
            )
        rated = rng.random() < 0.7
        published = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
        product = Product(
            seller=rng.choice(sellers),
            status=ProductStatus.LIVE,
            title=title,
            description=description,
            category=category,
            brand=brand,
            currency="USD",
            price_min_minor=min(sku.price_minor for sku in skus),
            price_max_minor=max(sku.price_minor for sku in skus),
            in_stock=any(sku.stock_on_hand > 0 for sku in skus),
            rating_x100=rng.randint(250, 500) if rated else 0,
            rating_count=rng.randint(1, 900) if rated else 0,
            search_text=search_text,
            created_at=published - timedelta(days=1),
            published_at=published,
        )
        yield product, skus, f"products/bench/{category.slug}-{number % 40}.png"


def main() -> None:
    arguments = parse_arguments()
    started = time.monotonic()
    rng = random.Random(arguments.seed)  # noqa: S311 - reproducible bench data, not secrets
    if connection.vendor != "postgresql":
        print("Warning: not PostgreSQL; the storefront benchmark targets PostgreSQL.")
    if arguments.reset:
        reset_catalog()

    seed_policies()  # the category tree and the policy pages the product page links to
    leaves = leaf_categories()
    brands = create_brands(rng)
    sellers = create_sellers(rng, arguments.sellers)
    now = timezone.now()

    progress = ProgressBar(arguments.products, label="Products")
    rows = product_rows(
        rng,
        arguments.products,
        sellers=sellers,
        brands=brands,
        leaves=leaves,
        skus_per_product=arguments.skus_per_product,
        now=now,
    )
    created = 0
    while created < arguments.products:
        batch = [next(rows) for _ in range(min(BATCH_SIZE, arguments.products - created))]
        with transaction.atomic():
            products = Product.objects.bulk_create([product for product, _, _ in batch])
            skus = []
            images = []
            for product, (_, product_skus, image_path) in zip(products, batch, strict=True):
                for sku in product_skus:
                    sku.product = product
                    skus.append(sku)
                images.append(
                    ProductImage(
                        product=product,
                        image=image_path,
                        width=800,
                        height=800,
                        alt_text=product.title,
                    )
                )
            SKU.objects.bulk_create(skus)
            ProductImage.objects.bulk_create(images)
        created += len(batch)
        progress.advance(len(batch))

    if connection.vendor == "postgresql":
        print("Analyzing tables…")
        # Fresh statistics (the sellers' too: stale ones made the planner expect one approved
        # seller and pick a nested loop 100 times slower), and the visibility map for
        # index-only scans.
        with connection.cursor() as cursor:
            for table in ("catalog_product", "catalog_sku", "catalog_productimage"):
                cursor.execute(f"VACUUM ANALYZE {table}")
            cursor.execute("ANALYZE")
    elapsed = time.monotonic() - started
    print(
        f"Built {created:,} live products, {created * arguments.skus_per_product:,} SKUs and "
        f"{len(sellers):,} approved sellers in {elapsed:.1f} s."
    )


if __name__ == "__main__":
    main()
