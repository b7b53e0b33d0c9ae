"""Demo data for policies: the seven marketplace policies, the category tree and the listing
keyword rules. Run by ``python manage.py seed_demo``; safe to run any number of times.

Documents, categories and rules are looked up by their natural key (kind, slug, phrase) and
brought back to the values below. A policy's first version is created only when missing and
never rewritten: once it has taken effect, sellers have accepted that exact text.
"""

from datetime import UTC, datetime

from policies.models import (
    Category,
    EnforcementSettings,
    KeywordRule,
    PolicyDocument,
    PolicyStatus,
    PolicyVersion,
)

FIRST_VERSION_EFFECTIVE_AT = datetime(2026, 1, 1, tzinfo=UTC)

Kind = PolicyDocument.Kind

# kind: (title, slug, summary, requires seller acceptance, body)
POLICY_TEXTS: dict[str, tuple[str, str, str, bool, str]] = {
    Kind.PROHIBITED_RESTRICTED: (
        "Prohibited and restricted products",
        "prohibited-and-restricted-products",
        "What may never be sold on the marketplace, and what may be sold only with an approved "
        "qualification.",
        True,
        """\
## Purpose

This policy keeps buyers safe and keeps the marketplace within the law. It applies to every
listing, including its title, description, images, videos and live sessions.

## Prohibited products

The following may never be listed. A listing in a prohibited category, or one that names a
prohibited product, is refused automatically and may lead to violation points.

- **Political campaign merchandise**: items that promote a candidate, party, campaign or ballot
  measure, such as campaign hats, shirts, signs and "vote for" slogans.
- **Weapons**: firearms, parts of firearms, ammunition, explosives, stun guns, and knives whose
  sale is restricted by law.
- **Drugs**: illegal drugs, prescription medicines, drug paraphernalia, and products that claim to
  treat, cure or prevent a disease (for example products said to "cure cancer").
- **Counterfeit goods**: replicas, copies or "inspired by" items that carry another brand's name
  or logo without authorization.
- **Hazardous materials**: flammable, toxic or corrosive substances that cannot be shipped safely.
- **Live animals, human remains and body parts.**
- **Recalled products** and products banned by a consumer safety authority.
- **Stolen goods**, and services or digital content that break the law.

## Restricted products

Restricted products may be sold only by sellers with an approved qualification for the category.
Upload the documents in Seller Center > Qualifications; a reviewer checks them, usually within two
business days. A qualification for a category also covers every category below it.

| category | qualification documents |
|---|---|
| Supplements | a food business registration and a certificate of analysis from an accredited laboratory for each product |
| Cosmetics | a cosmetic product notification (or your country's equivalent) and the product safety report |
| Skincare | the same documents as cosmetics |

Listings in a restricted category without an approved qualification are refused, with a link to
upload one.

## Branded products

To sell a brand you do not own, upload a brand authorization (an invoice from the brand or its
distributor, or a letter of authorization). Listings of a brand without an authorization go to
manual review before they can go live.

## Enforcement

A listing that breaks this policy is removed. Each removal adds violation points to the seller's
account; at set thresholds the seller is warned, then restricted from listing, then suspended.
Points expire after the period shown in the enforcement settings. Sellers may appeal a removal
within 14 days from the Seller Center.
""",
    ),
    Kind.PRODUCT_LISTING: (
        "Product listing policy",
        "product-listing",
        "How to describe products truthfully so buyers know exactly what they will receive.",
        True,
        """\
## Purpose

Buyers decide from your listing alone. This policy sets out what every listing must contain and
what it must never contain. Every new listing, and every edit of a live listing, passes an
automatic policy screening and, where needed, a manual review.

## Every listing must

- **Be in the right category.** The category decides which rules apply; a product in the wrong
  category is removed.
- **Have an accurate title.** Name the product, its brand (if any) and its key attribute, such as
  size or colour. At most 120 characters.
- **Describe the product truthfully**, including its condition (new, used or refurbished),
  materials, dimensions, what is in the box and any defects.
- **Show the actual product** in clear images on a plain background; the first image shows the
  product alone.
- **State a price that is the price charged.** Shipping costs are set in your shipping template,
  never hidden in the description.
- **Keep stock up to date.** Selling items you do not have leads to cancellations, which count
  against your shop.

## Listings must not

- Use misleading keywords, other brands' names, or words unrelated to the product to gain
  search traffic.
- Make medical or health claims such as "cures", "treats" or "prevents" a disease.
- Include contact details, links to other websites, or invitations to pay outside the
  marketplace.
- Duplicate another of your listings for the same product; use variations (SKUs) instead.
- Use images or text copied from another seller without permission.

## Screening and review

When you save a listing, the marketplace checks its category, its brand and its words:

1. A prohibited category or a blocked phrase refuses the listing, with the reason and a
   suggestion for fixing it.
2. A restricted category needs an approved qualification.
3. Some phrases, and brands you have no authorization for, send the listing to a reviewer, who
   answers within two business days.

Editing a live listing sends the new version to review while the current version stays on sale.

## Enforcement

Listings that break this policy are removed and may add violation points to your account.
""",
    ),
    Kind.ORDER_SHIPPING: (
        "Order shipping policy",
        "order-shipping",
        "When and how sellers ship orders, and what happens when an order ships late.",
        True,
        """\
## Purpose

Buyers expect their order when the listing promised it. This policy sets the deadlines for
shipping and the evidence a seller must provide.

## Processing time

- Each shop sets its **processing days** (1 to 5 business days) in its shipping template. The
  buyer sees them before paying.
- An order must be **shipped within the seller's processing days** after the buyer's cancellation
  window closes (one hour after payment). The order page shows the exact ship-by date.
- Orders placed on a weekend or public holiday count from the next business day.

## Shipping an order

1. Pack the order securely so that it arrives undamaged.
2. Hand it to a carrier and enter the **carrier and tracking number** in the Seller Center before
   the ship-by date. An order counts as shipped when the carrier first scans it.
3. Ship every item of the order together unless the buyer agreed to separate parcels.
4. Ship to the address on the order only; never ask the buyer to change it outside the
   marketplace.

## Delivery

- Use a service that delivers by the order's deliver-by date.
- If a parcel is lost or arrives damaged, the seller is responsible until it is delivered.

## Late and missed shipments

- An order not shipped by its ship-by date is **cancelled automatically**, the buyer is refunded in
  full, and the cancellation counts against the seller.
- Late shipments, missing tracking numbers and tracking numbers that never show movement add
  violation points.
- Sellers with a high late-shipment rate may be restricted from listing new products.

## Exceptions

If a carrier disruption or a natural disaster prevents shipping, contact support before the
ship-by date. Deadlines may be extended for the orders affected.
""",
    ),
    Kind.CANCELLATION: (
        "Cancellation policy",
        "cancellation",
        "When buyers and sellers may cancel an order, and how refunds for cancelled orders work.",
        True,
        """\
## Purpose

This policy explains who may cancel an order, until when, and what happens to the payment.

## Cancellation by the buyer

- **Within 1 hour of paying**, the buyer may cancel an order without giving a reason. The
  cancellation takes effect at once and the seller does not need to approve it.
- **After that hour and before the order ships**, the buyer may request a cancellation. The seller
  approves or rejects the request in the Seller Center. A request the seller does not answer
  within 24 hours is approved automatically.
- **Once the order has shipped**, it can no longer be cancelled. The buyer may instead ask for a
  return and refund under the returns and refunds policy.

An unpaid order expires on its own after 30 minutes and releases its stock.

## Cancellation by the seller

A seller may cancel an order only for one of these reasons:

- the item is out of stock;
- the buyer's address cannot be delivered to;
- the buyer asked for the cancellation.

Cancellations for being out of stock count against the shop's cancellation rate and may add
violation points, because they break a promise to the buyer.

## Automatic cancellation

An order that is not shipped by its ship-by date is cancelled automatically (see the order
shipping policy).

## Refunds for cancelled orders

- The buyer is refunded the full amount paid, including shipping, to the original payment method.
- Refunds are issued as soon as the cancellation takes effect; the time the money takes to appear
  depends on the buyer's bank.
- No platform commission and no creator commission is charged on a cancelled order.
- Stock is returned to the listing automatically.
""",
    ),
    Kind.RETURNS_REFUNDS: (
        "Returns and refunds policy",
        "returns-and-refunds",
        "How buyers return products or ask for a refund, and the deadlines sellers must meet.",
        True,
        """\
## Purpose

Buyers can shop with confidence because a product that is not as described, arrives damaged, or
simply does not suit them can go back. This policy sets the deadlines for both sides.

## What the buyer can ask for

- **Return and refund**: the buyer sends the product back and receives a refund.
- **Refund only**: for a product that never arrived, or one not worth returning (for example a
  damaged low-cost item). The buyer keeps the product.
- **Partial refund**: the seller may offer part of the price back instead; the buyer may accept
  or decline the offer.

## Deadlines

- The buyer may request a return **within 30 days of delivery**.
- The seller answers a request **within 48 hours**. A request left unanswered is approved
  automatically.
- After approval, the buyer ships the product back within 7 days, with tracking.
- The seller issues the **refund within 48 hours of receiving** the returned product. A refund not
  issued in time is issued automatically.

## Who pays return shipping

- The seller pays when the product is defective, damaged, wrong or not as described.
- The buyer pays when they changed their mind, unless the listing offers free returns.

## Products that cannot be returned

Unless they are defective or not as described: personalised or made-to-order products, perishable
goods, opened cosmetics and personal care products, underwear and swimwear without hygiene seals,
and digital content once delivered.

## Rejected requests and disputes

A seller who rejects a request must give a reason and evidence, such as photographs. The buyer may
then escalate the request to the marketplace, and platform staff decide for the buyer or the
seller. That decision is final.

## Money

- Refunds go back to the original payment method.
- When an order is refunded, the platform commission and any creator commission on the refunded
  amount are returned, in proportion to the refund.
""",
    ),
    Kind.INTELLECTUAL_PROPERTY: (
        "Intellectual property policy",
        "intellectual-property",
        "Respecting trademarks, copyrights and patents, how rights owners report an "
        "infringement, and how sellers appeal.",
        True,
        """\
## Purpose

Sellers may only list products they have the right to sell, described with words and images they
have the right to use. This policy explains how rights owners report an infringement and how
sellers respond.

## What is not allowed

- **Counterfeit goods**: products bearing a trademark, logo or brand name without the owner's
  authorization, including "replica", "copy" and "inspired by" items.
- **Copyright infringement**: images, videos, texts, music or designs copied without permission.
- **Patent and design infringement**: products that copy a protected invention or design.
- **Misuse of brand names** in titles, descriptions or keywords of products of another brand.

## Reporting an infringement (notice)

A rights owner, or someone authorized to act for one, can file a notice with:

1. the rights owner's name and contact details;
2. the right concerned (for example a trademark registration number or the copyrighted work);
3. the listings concerned;
4. a statement, made in good faith, that the use is not authorized; and
5. a statement that the notice is accurate.

We review each complete notice, usually within two business days. When the notice is valid, the
listings are removed and the seller is told why and who filed the notice.

## Appeal (counter-notice)

A seller who believes a listing was removed by mistake can appeal **within 14 days** from the
Seller Center. The appeal must explain why the listing does not infringe and include evidence,
such as an invoice from the brand or a licence. We pass the appeal to the rights owner; if they
do not start legal proceedings within 10 business days, or the evidence shows the listing is
lawful, the listing is restored.

## Consequences

- Each confirmed infringement adds violation points to the seller's account.
- Repeated infringement leads to listing restrictions and then to the suspension of the shop.
- Notices filed in bad faith may lead to the suspension of the reporting account.
""",
    ),
    Kind.AFFILIATE_PROGRAM: (
        "Affiliate program policy",
        "affiliate-program",
        "How sellers and creators work together, how creator commissions are earned and when they "
        "are paid.",
        False,
        """\
## Purpose

Sellers invite creators to promote their products through links, shoppable videos and live
sessions. This policy sets the rules for both sides and explains how commissions work.

## Commission rates

- The seller sets the creator commission for each product or collaboration, between **1% and
  80%** of the price paid for the product, excluding shipping and taxes.
- The **platform commission of 2%** of each order is charged to the seller separately and does not
  reduce the creator commission.
- A rate applies to orders placed while it is in force. A seller may lower a rate only with 7
  days' notice to the creators in the collaboration.

## Earning a commission

- A commission is earned on an order attributed to the creator: the buyer followed the creator's
  link, video or live session and paid within the attribution window.
- When more than one creator could claim an order, the last one the buyer followed before paying
  earns the commission.
- **No commission is paid on cancelled or refunded orders.** A partial refund reduces the
  commission in proportion.
- A commission becomes payable when the order is completed and the settlement hold period has
  passed; it is then paid with the creator's next payout.

## Rules for creators

- Clearly disclose that content is sponsored or that you earn a commission, using the label the
  marketplace provides.
- Make only truthful claims about a product; no health claims and no claims the seller's listing
  does not support.
- Do not buy through your own links, pay people to buy, or use bots, cookie stuffing or misleading
  ads to generate attributed orders.

## Rules for sellers

- Keep the products in a collaboration in stock and honour the agreed rate.
- Do not ask creators to break this policy or any other marketplace policy.

## Enforcement

Commissions earned by breaking these rules are reversed. Repeated or serious breaches lead to
removal from the affiliate program.
""",
    ),
}

# (slug, name, parent slug, status, reason, qualification hint)
CATEGORY_TREE: list[tuple[str, str, str | None, str, str, str]] = [
    ("fashion", "Fashion", None, PolicyStatus.ALLOWED, "", ""),
    ("womens-clothing", "Women's clothing", "fashion", PolicyStatus.ALLOWED, "", ""),
    ("mens-clothing", "Men's clothing", "fashion", PolicyStatus.ALLOWED, "", ""),
    ("shoes", "Shoes", "fashion", PolicyStatus.ALLOWED, "", ""),
    ("bags-accessories", "Bags & accessories", "fashion", PolicyStatus.ALLOWED, "", ""),
    ("electronics", "Electronics", None, PolicyStatus.ALLOWED, "", ""),
    ("phones", "Phones", "electronics", PolicyStatus.ALLOWED, "", ""),
    ("audio", "Audio", "electronics", PolicyStatus.ALLOWED, "", ""),
    ("computers", "Computers", "electronics", PolicyStatus.ALLOWED, "", ""),
    ("home-kitchen", "Home & kitchen", None, PolicyStatus.ALLOWED, "", ""),
    ("kitchen", "Kitchen", "home-kitchen", PolicyStatus.ALLOWED, "", ""),
    ("decor", "Decor", "home-kitchen", PolicyStatus.ALLOWED, "", ""),
    ("bedding", "Bedding", "home-kitchen", PolicyStatus.ALLOWED, "", ""),
    (
        "beauty-personal-care",
        "Beauty & personal care",
        None,
        PolicyStatus.RESTRICTED,
        "Beauty and personal care products can only be sold by qualified sellers.",
        "Upload a cosmetic product notification and the product safety report.",
    ),
    (
        "cosmetics",
        "Cosmetics",
        "beauty-personal-care",
        PolicyStatus.RESTRICTED,
        "Cosmetics can only be sold by sellers with an approved cosmetics qualification.",
        "Upload a cosmetic product notification (or your country's equivalent) and the product "
        "safety report.",
    ),
    (
        "skincare",
        "Skincare",
        "beauty-personal-care",
        PolicyStatus.RESTRICTED,
        "Skincare products can only be sold by sellers with an approved skincare qualification.",
        "Upload a cosmetic product notification and the product safety report.",
    ),
    ("health", "Health", None, PolicyStatus.ALLOWED, "", ""),
    (
        "supplements",
        "Supplements",
        "health",
        PolicyStatus.RESTRICTED,
        "Dietary supplements can only be sold by sellers with an approved supplements "
        "qualification.",
        "Upload your food business registration and a laboratory certificate of analysis.",
    ),
    ("fitness-equipment", "Fitness equipment", "health", PolicyStatus.ALLOWED, "", ""),
    ("toys-games", "Toys & games", None, PolicyStatus.ALLOWED, "", ""),
    ("sports-outdoors", "Sports & outdoors", None, PolicyStatus.ALLOWED, "", ""),
    ("books-media", "Books & media", None, PolicyStatus.ALLOWED, "", ""),
    (
        "political-merchandise",
        "Political merchandise",
        None,
        PolicyStatus.PROHIBITED,
        "Political campaign merchandise is not allowed on the marketplace",
        "",
    ),
    (
        "weapons",
        "Weapons",
        None,
        PolicyStatus.PROHIBITED,
        "Weapons, firearms, their parts and ammunition are not allowed on the marketplace",
        "",
    ),
]

# (phrase, action, reason, suggestion)
KEYWORD_RULES: list[tuple[str, str, str, str]] = [
    (
        "campaign merchandise",
        KeywordRule.Action.BLOCK,
        "Political campaign merchandise is not allowed on the marketplace.",
        "Remove the product; political campaign merchandise cannot be sold here.",
    ),
    (
        "vote for",
        KeywordRule.Action.BLOCK,
        "Political slogans and campaign merchandise are not allowed on the marketplace.",
        "Remove the slogan from the title and description, or remove the product.",
    ),
    (
        "firearm",
        KeywordRule.Action.BLOCK,
        "Firearms and their parts are prohibited products.",
        "Remove the product; weapons cannot be sold here.",
    ),
    (
        "ammunition",
        KeywordRule.Action.BLOCK,
        "Ammunition is a prohibited product.",
        "Remove the product; weapons and ammunition cannot be sold here.",
    ),
    (
        "replica designer",
        KeywordRule.Action.BLOCK,
        "Replicas of branded products are counterfeit goods and are prohibited.",
        "Sell only genuine products, and describe them without other brands' names.",
    ),
    (
        "cure cancer",
        KeywordRule.Action.BLOCK,
        "Listings may not claim to treat, cure or prevent a disease.",
        "Remove the health claim from the title and description.",
    ),
    (
        "vintage",
        KeywordRule.Action.REVIEW,
        "Vintage items are checked by a reviewer for condition and authenticity.",
        "",
    ),
    (
        "imported supplement",
        KeywordRule.Action.REVIEW,
        "Imported supplements are checked by a reviewer for their import documents.",
        "",
    ),
    (
        "limited edition",
        KeywordRule.Action.REVIEW,
        "Limited edition claims are checked by a reviewer for authenticity.",
        "",
    ),
]


def seed_policy_documents() -> None:
    for position, (kind, (title, slug, summary, requires_acceptance, body)) in enumerate(
        POLICY_TEXTS.items()
    ):
        document, _ = PolicyDocument.objects.update_or_create(
            kind=kind,
            defaults={
                "title": title,
                "slug": slug,
                "summary": summary,
                "requires_seller_acceptance": requires_acceptance,
                "position": position,
            },
        )
        # Written directly rather than through policy_version_create, which refuses a date in the
        # past: the demo recreates history. get_or_create, because a version in force is never
        # rewritten.
        PolicyVersion.objects.get_or_create(
            document=document,
            number=1,
            defaults={
                "body_markdown": body,
                "change_summary": "First version.",
                "effective_at": FIRST_VERSION_EFFECTIVE_AT,
            },
        )


def seed_categories() -> None:
    by_slug: dict[str, Category] = {}
    for position, (slug, name, parent_slug, status, reason, hint) in enumerate(CATEGORY_TREE):
        by_slug[slug], _ = Category.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "parent": by_slug[parent_slug] if parent_slug else None,
                "policy_status": status,
                "policy_reason": reason,
                "qualification_hint": hint,
                "position": position,
            },
        )


def seed_keyword_rules() -> None:
    for phrase, action, reason, suggestion in KEYWORD_RULES:
        KeywordRule.objects.update_or_create(
            phrase=phrase,
            defaults={
                "action": action,
                "reason": reason,
                "suggestion": suggestion,
                "is_active": True,
            },
        )


def seed_policies() -> None:
    seed_policy_documents()
    seed_categories()
    seed_keyword_rules()
    EnforcementSettings.current()


def demo_steps():
    """Called by `manage.py seed_demo`."""
    return [("policies, categories and screening rules", seed_policies)]
