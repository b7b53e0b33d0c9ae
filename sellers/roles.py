"""What each Seller Center role may see and do. One table, read by the views' access check and by
the navigation, so a menu never shows a section its reader cannot open."""

from enum import StrEnum

from sellers.models import SellerRole


class Section(StrEnum):
    DASHBOARD = "dashboard"
    PRODUCTS = "products"
    ORDERS = "orders"
    RETURNS = "returns"
    FINANCE = "finance"
    AFFILIATES = "affiliates"
    MESSAGES = "messages"
    POLICIES = "policies"
    SETTINGS = "settings"  # shop profile, addresses, shipping, hours, payout account
    STAFF = "staff"


ALL_SECTIONS = frozenset(Section)

ROLE_SECTIONS: dict[str, frozenset[Section]] = {
    SellerRole.OWNER: ALL_SECTIONS,
    SellerRole.ADMIN: ALL_SECTIONS,
    SellerRole.PRODUCT_MANAGER: frozenset(
        {Section.DASHBOARD, Section.PRODUCTS, Section.AFFILIATES, Section.POLICIES}
    ),
    SellerRole.ORDER_MANAGER: frozenset(
        {Section.DASHBOARD, Section.ORDERS, Section.RETURNS, Section.MESSAGES, Section.POLICIES}
    ),
    SellerRole.FINANCE: frozenset({Section.DASHBOARD, Section.FINANCE, Section.POLICIES}),
}

# Only these roles may accept policies on the seller's behalf or manage staff.
ROLES_THAT_ACCEPT_POLICIES = frozenset({SellerRole.OWNER, SellerRole.ADMIN})
ROLES_THAT_MANAGE_STAFF = frozenset({SellerRole.OWNER, SellerRole.ADMIN})


def can_open(role: str, section: Section) -> bool:
    return section in ROLE_SECTIONS.get(role, frozenset())
