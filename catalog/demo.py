"""Demo products for `manage.py seed_demo`: over 200 live listings with generated images across the
open demo shops, plus a few that the policy screening refused or sent to a reviewer.

Everything goes through the services people use (product_create, product_image_add,
product_submit_for_review), so each product has its screening decision and status history. Titles,
prices, colours and images are drawn from word lists with a generator seeded by the shop, so every
run builds the same catalog. Idempotent: a shop that already has products is left as it is.
"""

import colorsys
import io
import random
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFont

from catalog.models import Product
from catalog.services.images import product_image_add
from catalog.services.listing import product_submit_for_review
from catalog.services.products import SkuInput, product_create
from policies.models import Category
from sellers.models import Seller

LIVE_PRODUCTS_PER_SHOP = 42
IMAGE_SIDE_PX = 800


@dataclass(frozen=True)
class CategoryWords:
    """How to make believable products of one category."""

    slug: str
    styles: tuple[str, ...]
    nouns: tuple[str, ...]
    option: str  # "" for products without options
    values: tuple[str, ...]
    price_range: tuple[int, int]  # whole currency units
    details: tuple[str, ...]
    weight_grams: int = 400


COLOURS = ("Sand", "Olive", "Charcoal", "Rust", "Ivory", "Navy", "Sage", "Terracotta", "Black")

CATEGORY_WORDS = {
    words.slug: words
    for words in (
        CategoryWords(
            "womens-clothing",
            ("Washed Linen", "Organic Cotton", "Relaxed", "Pleated", "Ribbed Knit", "Silk Blend"),
            ("Wrap Dress", "Midi Skirt", "Button-Up Shirt", "Wide-Leg Trousers", "Cardigan", "Camisole", "Jumpsuit"),
            "Size",
            ("XS", "S", "M", "L"),
            (38, 140),
            ("Cut and sewn in small batches.", "Pre-washed, so it keeps its shape.", "Machine wash cold, line dry."),
        ),
        CategoryWords(
            "mens-clothing",
            ("Heavyweight", "Brushed Cotton", "Merino", "Garment-Dyed", "Oxford", "Canvas"),
            ("Crew Tee", "Overshirt", "Chinos", "Henley", "Chore Jacket", "Hoodie"),
            "Size",
            ("S", "M", "L", "XL"),
            (30, 160),
            ("A relaxed fit with room to layer.", "Reinforced seams at the stress points.", "Machine wash warm."),
        ),
        CategoryWords(
            "shoes",
            ("Leather", "Suede", "Canvas", "Cushioned", "Minimal"),
            ("Loafers", "Sneakers", "Ankle Boots", "Sandals", "Mules"),
            "Size",
            ("38", "39", "40", "41", "42"),
            (60, 180),
            ("Stitched soles that can be resoled.", "A cushioned footbed for long days.", "True to size."),
            weight_grams=900,
        ),
        CategoryWords(
            "bags-accessories",
            ("Waxed Canvas", "Vegetable-Tanned", "Woven", "Recycled Nylon", "Quilted"),
            ("Tote Bag", "Crossbody Bag", "Belt", "Card Wallet", "Scarf", "Weekender"),
            "Colour",
            ("Tan", "Black", "Olive"),
            (25, 150),
            ("Solid brass hardware.", "An inside pocket for keys and cards.", "Ages beautifully with use."),
        ),
        CategoryWords(
            "audio",
            ("Studio", "Wireless", "Noise-Cancelling", "Compact", "Bookshelf", "Portable"),
            ("Over-Ear Headphones", "Earbuds", "Speaker", "Soundbar", "Turntable", "DAC Amplifier"),
            "Colour",
            ("Black", "White", "Walnut"),
            (49, 399),
            ("Tuned and tested by ear in our Austin studio.", "30 hours of battery life.", "Two-year warranty."),
            weight_grams=700,
        ),
        CategoryWords(
            "phones",
            ("MagSafe", "Rugged", "Slim", "Fast-Charge", "Braided"),
            ("Phone Case", "Charging Stand", "USB-C Cable", "Power Bank", "Car Mount"),
            "Colour",
            ("Black", "Graphite", "Sand"),
            (15, 79),
            ("Works with every recent phone.", "Drop-tested from two metres.", "Ships with a USB-C cable."),
            weight_grams=200,
        ),
        CategoryWords(
            "computers",
            ("Mechanical", "Low-Profile", "Ergonomic", "Aluminium", "Wireless"),
            ("Keyboard", "Mouse", "Laptop Stand", "USB-C Hub", "Desk Mat"),
            "Colour",
            ("Space Grey", "White"),
            (25, 189),
            ("Plug and play on macOS, Windows and Linux.", "Machined from a single block.", "Two-year warranty."),
            weight_grams=800,
        ),
        CategoryWords(
            "kitchen",
            ("Cast Iron", "Carbon Steel", "Enamelled", "Stainless", "Olive Wood", "Stoneware"),
            ("Skillet", "Dutch Oven", "Chef's Knife", "Cutting Board", "Saucepan", "Mixing Bowl Set"),
            "Size",
            ("Small", "Medium", "Large"),
            (18, 220),
            ("Oven-safe to 260 °C.", "Works on gas, electric and induction.", "Hand wash and dry at once."),
            weight_grams=1800,
        ),
        CategoryWords(
            "decor",
            ("Hand-Thrown", "Linen", "Rattan", "Brass", "Recycled Glass"),
            ("Vase", "Table Lamp", "Wall Mirror", "Candle Holder", "Throw Cushion", "Planter"),
            "Colour",
            ("Natural", "Smoke", "Clay"),
            (22, 160),
            ("Each piece is slightly different.", "Made by a family workshop.", "Gift-wrapped on request."),
            weight_grams=1200,
        ),
        CategoryWords(
            "bedding",
            ("Stonewashed Linen", "Percale", "Sateen", "Waffle-Knit", "Bamboo"),
            ("Duvet Cover", "Sheet Set", "Pillowcases", "Throw Blanket", "Quilt"),
            "Size",
            ("Twin", "Queen", "King"),
            (45, 260),
            ("Softer with every wash.", "OEKO-TEX certified.", "Cool in summer, warm in winter."),
            weight_grams=1500,
        ),
        CategoryWords(
            "cosmetics",
            ("Velvet", "Sheer", "Long-Wear", "Satin", "Mineral"),
            ("Lipstick", "Cream Blush", "Mascara", "Brow Gel", "Tinted Balm", "Eyeliner"),
            "Shade",
            ("Rose", "Coral", "Berry", "Nude"),
            (12, 38),
            ("Certified cruelty-free.", "Fragrance-free formula.", "Made in small batches in London."),
            weight_grams=60,
        ),
        CategoryWords(
            "skincare",
            ("Hydrating", "Gentle", "Vitamin C", "Barrier", "Overnight"),
            ("Face Serum", "Cleanser", "Moisturiser", "Eye Cream", "Face Oil", "Toner"),
            "Size",
            ("30 ml", "50 ml"),
            (16, 64),
            ("Dermatologist tested.", "Suitable for sensitive skin.", "Recyclable glass bottle."),
            weight_grams=120,
        ),
        CategoryWords(
            "fitness-equipment",
            ("Adjustable", "Non-Slip", "Cork", "Steel", "Foam"),
            ("Yoga Mat", "Kettlebell", "Resistance Bands", "Jump Rope", "Foam Roller"),
            "",
            (),
            (15, 120),
            ("Gym-grade materials.", "Wipes clean.", "Compact enough for a small flat."),
            weight_grams=2000,
        ),
        CategoryWords(
            "sports-outdoors",
            ("Ultralight", "Waterproof", "Packable", "Insulated", "Ripstop"),
            ("Daypack", "Rain Jacket", "Two-Person Tent", "Sleeping Bag", "Trekking Poles", "Camp Stove"),
            "Colour",
            ("Forest", "Orange", "Slate"),
            (35, 420),
            ("Field-tested on Colorado trails.", "Seam-taped against the rain.", "Packs into its own pocket."),
            weight_grams=1100,
        ),
        CategoryWords(
            "toys-games",
            ("Wooden", "Cooperative", "Travel", "Classic"),
            ("Board Game", "Card Game", "Puzzle", "Kite", "Frisbee Set"),
            "",
            (),
            (12, 60),
            ("For ages 6 and up.", "Plays in 20 minutes.", "Perfect for the campsite."),
            weight_grams=500,
        ),
        CategoryWords(
            "books-media",
            ("Pocket", "Illustrated", "Field"),
            ("Trail Guide", "Knot Handbook", "Camp Cookbook", "Star Atlas", "Map Set"),
            "Format",
            ("Paperback", "Hardcover"),
            (14, 45),
            ("Printed on recycled paper.", "Updated for this year.", "Fits a jacket pocket."),
            weight_grams=350,
        ),
    )
}  # fmt: skip


@dataclass(frozen=True)
class ExtraListing:
    """A listing the screening does not simply approve: it shows the review in the demo."""

    title: str
    description: str
    category_slug: str
    brand_name: str = ""


# (shop slug, its categories, brand on its products, the listings screening refuses or holds)
DEMO_CATALOG: dict[str, tuple[tuple[str, ...], str, tuple[ExtraListing, ...]]] = {
    "sofias-studio": (
        ("womens-clothing", "mens-clothing", "shoes", "bags-accessories"),
        "",
        (
            ExtraListing(
                "Vote for Smith 2028 campaign cap",
                "A structured cap with the campaign slogan embroidered on the front.",
                "mens-clothing",
            ),
            ExtraListing(
                "Replica designer quilted handbag",
                "Looks just like the famous original, at a fraction of the price.",
                "bags-accessories",
            ),
        ),
    ),
    "northwind-audio": (
        ("audio", "phones", "computers"),
        "Northwind",
        (
            ExtraListing(
                "Sonix Pro studio monitor headphones",
                "Closed-back monitors for mixing and mastering.",
                "audio",
                brand_name="Sonix",
            ),
        ),
    ),
    "maple-kitchen": (
        ("kitchen", "decor", "bedding"),
        "",
        (
            ExtraListing(
                "Vintage copper jam pan",
                "A 1950s French copper pan, re-tinned by hand.",
                "kitchen",
            ),
            ExtraListing(
                "Daily greens superfood powder",
                "A spoonful of kale, spirulina and wheatgrass for your morning smoothie.",
                "supplements",
            ),
        ),
    ),
    "glow-lab": (("cosmetics", "skincare"), "", ()),
    "trailhead-outdoors": (
        ("sports-outdoors", "fitness-equipment", "toys-games", "books-media"),
        "",
        (
            ExtraListing(
                "Summit Pro carbon trekking poles",
                "Three-section carbon poles with cork grips.",
                "sports-outdoors",
                brand_name="Summit Pro",
            ),
        ),
    ),
}


def demo_image(*, seed: str, label: str) -> bytes:
    """An 800x800 JPEG: a coloured background, a lighter shape and the product's initials.
    The same seed always draws the same picture."""
    rng = random.Random(seed)  # noqa: S311 - pictures, not secrets
    hue = rng.random()
    background = _hsv(hue, 0.45, 0.85)
    shape_colour = _hsv(hue, 0.25, 0.97)
    image = Image.new("RGB", (IMAGE_SIDE_PX, IMAGE_SIDE_PX), background)
    draw = ImageDraw.Draw(image)
    margin = rng.randint(110, 170)
    box = (margin, margin, IMAGE_SIDE_PX - margin, IMAGE_SIDE_PX - margin)
    shape = rng.choice(("circle", "square", "diamond"))
    if shape == "circle":
        draw.ellipse(box, fill=shape_colour)
    elif shape == "square":
        draw.rounded_rectangle(box, radius=60, fill=shape_colour)
    else:
        middle = IMAGE_SIDE_PX // 2
        draw.polygon(
            [(middle, margin), (IMAGE_SIDE_PX - margin, middle), (middle, IMAGE_SIDE_PX - margin), (margin, middle)],
            fill=shape_colour,
        )  # fmt: skip
    initials = "".join(word[0] for word in label.split() if word[:1].isalnum())[:2].upper()
    draw.text(
        (IMAGE_SIDE_PX // 2, IMAGE_SIDE_PX // 2),
        initials or "?",
        fill=_hsv(hue, 0.6, 0.35),
        font=_font(200),
        anchor="mm",
    )
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82)
    return buffer.getvalue()


def _hsv(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return int(red * 255), int(green * 255), int(blue * 255)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def _skus(rng: random.Random, words: CategoryWords, code: str) -> list[SkuInput]:
    low, high = words.price_range
    base_minor = rng.randint(low, high) * 100 + rng.choice((0, 0, 50, 99))
    if not words.option:
        count, values = 1, [None]
    else:
        count = rng.randint(1, min(3, len(words.values)))
        values = rng.sample(words.values, count)
    skus = []
    for index, value in enumerate(values):
        price = base_minor + index * rng.choice((0, 0, 500, 1000))
        on_sale = rng.random() < 0.2
        skus.append(
            SkuInput(
                seller_sku=f"{code}-{index + 1}",
                price_minor=price,
                stock_on_hand=rng.choice((0, 3, 8, 12, 25, 40, 60))
                if index
                else rng.randint(5, 80),
                option_values={words.option: value} if value else {},
                compare_at_price_minor=price + rng.choice((500, 1000, 2000)) if on_sale else None,
                weight_grams=words.weight_grams,
            )
        )
    return skus


def _description(rng: random.Random, words: CategoryWords, title: str, colour: str) -> str:
    details = rng.sample(words.details, 2)
    return (
        f"Our {title.lower()}, shown here in {colour.lower()}.\n\n"
        f"- {details[0]}\n- {details[1]}\n\n"
        "Questions about sizing or care? Message the shop; we answer within a day."
    )


def _product_plan(slug: str, category_slugs: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(category slug, title, colour) for each live product of a shop: distinct titles, the
    categories taken in turn."""
    rng = random.Random(f"plan:{slug}")  # noqa: S311 - demo data
    pools = {}
    for category_slug in category_slugs:
        words = CATEGORY_WORDS[category_slug]
        combos = [f"{style} {noun}" for style in words.styles for noun in words.nouns]
        rng.shuffle(combos)
        pools[category_slug] = combos
    plan = []
    index = 0
    while len(plan) < LIVE_PRODUCTS_PER_SHOP:
        category_slug = category_slugs[index % len(category_slugs)]
        index += 1
        pool = pools[category_slug]
        if not pool:
            if not any(pools.values()):
                break
            continue
        plan.append((category_slug, pool.pop(), rng.choice(COLOURS)))
    return plan


def _add_image(product: Product, *, seed: str, label: str) -> None:
    upload = SimpleUploadedFile(
        "demo.jpg", demo_image(seed=seed, label=label), content_type="image/jpeg"
    )
    product_image_add(product=product, upload=upload, actor=product.seller.owner)


def seed_shop_products(slug: str) -> None:
    seller = Seller.objects.select_related("owner").filter(slug=slug).first()
    if seller is None or not seller.is_open:
        return  # the sellers' demo did not create this shop (or it is not open)
    if Product.objects.filter(seller=seller).exists():
        return
    category_slugs, brand_name, extras = DEMO_CATALOG[slug]
    categories = {
        category.slug: category
        for category in Category.objects.filter(
            slug__in={*category_slugs, *(extra.category_slug for extra in extras)}
        )
    }
    owner = seller.owner
    rng = random.Random(f"products:{slug}")  # noqa: S311 - demo data
    prefix = "".join(word[0] for word in slug.split("-")).upper()
    for number, (category_slug, title, colour) in enumerate(
        _product_plan(slug, category_slugs), start=1
    ):
        category = categories.get(category_slug)
        if category is None:
            continue
        words = CATEGORY_WORDS[category_slug]
        full_title = f"{brand_name} {title}" if brand_name else title
        product = product_create(
            seller=seller,
            title=full_title,
            description=_description(rng, words, title, colour),
            category=category,
            brand_name=brand_name,
            attributes={"Colour": colour} if words.option != "Colour" else {},
            skus=_skus(rng, words, f"{prefix}-{number:03d}"),
            actor=owner,
        )
        _add_image(product, seed=f"{slug}:{number}", label=title)
        product_submit_for_review(product=product, actor=owner)

    for number, extra in enumerate(extras, start=1):
        category = categories.get(extra.category_slug)
        if category is None:
            continue
        product = product_create(
            seller=seller,
            title=extra.title,
            description=extra.description,
            category=category,
            brand_name=extra.brand_name,
            attributes={},
            skus=[SkuInput(f"{prefix}-X{number:02d}", rng.randint(15, 90) * 100, 10)],
            actor=owner,
        )
        _add_image(product, seed=f"{slug}:extra:{number}", label=extra.title)
        product_submit_for_review(product=product, actor=owner)


def demo_steps():
    """Called by `manage.py seed_demo` after the sellers' steps (the shops must exist)."""
    return [
        (f"products of {slug}", lambda slug=slug: seed_shop_products(slug)) for slug in DEMO_CATALOG
    ]
