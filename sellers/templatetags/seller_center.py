"""Template tags of the Seller Center: the sidebar navigation and money formatting.

The navigation is built from `sellers.roles` (the same table the access decorator reads), so a
member never sees a link that would answer 404.
"""

from dataclasses import dataclass

from django import template
from django.urls import NoReverseMatch, reverse

from marketplace.money import Money
from sellers.roles import Section, can_open
from sellers.selectors import seller_membership_for_user

register = template.Library()


@dataclass(frozen=True)
class NavEntry:
    label: str
    # A full URL name: Seller Center pages of higher apps (catalog's products, orders' orders,
    # returns' requests) live in their own namespaces, and templates may name them though this
    # module cannot import those apps.
    url_name: str
    section: Section
    approved_only: bool = False
    # Other pages (view names, or prefixes ending in ":") that mark this entry as the current one.
    also_active_on: tuple[str, ...] = ()
    sub_item: bool = False

    def is_current(self, view_name: str) -> bool:
        return view_name == self.url_name or any(
            view_name.startswith(other) if other.endswith(":") else view_name == other
            for other in self.also_active_on
        )


NAV_ENTRIES: tuple[NavEntry, ...] = (
    NavEntry("Dashboard", "seller_center:dashboard", Section.DASHBOARD),
    NavEntry(
        "Products",
        "seller_products:list",
        Section.PRODUCTS,
        approved_only=True,
        also_active_on=("seller_products:", "seller_bulk:", "seller_ip_complaints:"),
    ),
    NavEntry(
        "Orders",
        "seller_orders:list",
        Section.ORDERS,
        approved_only=True,
        also_active_on=("seller_orders:",),
    ),
    NavEntry(
        "Returns",
        "seller_returns:list",
        Section.RETURNS,
        approved_only=True,
        also_active_on=("seller_returns:",),
    ),
    NavEntry(
        "Finance",
        "seller_center:finance",
        Section.FINANCE,
        approved_only=True,
        also_active_on=(
            "seller_center:finance_transactions",
            "seller_center:finance_statements",
            "seller_center:finance_payouts",
        ),
    ),
    NavEntry("Affiliates", "seller_center:affiliates", Section.AFFILIATES, approved_only=True),
    NavEntry("Messages", "seller_center:messages", Section.MESSAGES, approved_only=True),
    NavEntry("Policies", "seller_center:policies", Section.POLICIES),
    NavEntry(
        "Settings",
        "seller_center:settings",
        Section.SETTINGS,
        also_active_on=(
            "seller_center:address_ship_from",
            "seller_center:address_return",
            "seller_center:shipping",
            "seller_center:payouts",
        ),
    ),
    NavEntry("Qualifications", "seller_center:qualifications", Section.PRODUCTS, sub_item=True),
    NavEntry("Staff", "seller_center:staff", Section.STAFF, sub_item=True),
)

# The application pages (sellers/views/application.py) highlight the "Application" entry.
APPLICATION_URL_PREFIXES = tuple(
    f"seller_center:{name}" for name in ("apply", "application", "kyc_document")
)


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    active: bool
    sub_item: bool = False


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def seller_center_nav_links(*, member, current_url_name: str) -> list[NavLink]:
    """The links one member may follow, in sidebar order. `member` None: not a seller yet."""
    on_application_page = current_url_name.startswith(APPLICATION_URL_PREFIXES)
    if member is None:
        url = _url("seller_center:apply")
        return [NavLink("Your application", url, on_application_page)] if url else []

    seller = member.seller
    links = []
    for entry in NAV_ENTRIES:
        if not can_open(member.role, entry.section):
            continue
        if entry.approved_only and not seller.is_open:
            continue
        url = _url(entry.url_name)
        if url is None:
            continue
        links.append(NavLink(entry.label, url, entry.is_current(current_url_name), entry.sub_item))
        if entry.section == Section.DASHBOARD and seller.approved_at is None:
            # Until the first approval, the application is the owner's main task.
            application_url = _url("seller_center:application")
            if application_url and can_open(member.role, Section.SETTINGS):
                links.append(NavLink("Application", application_url, on_application_page))
    return links


@register.inclusion_tag("sellers/seller_center/_nav.html", takes_context=True)
def seller_center_nav(context):
    request = context.get("request")
    member = getattr(request, "seller_member", None) if request is not None else None
    if member is None and request is not None and request.user.is_authenticated:
        # Pages outside @seller_center_view (the application form) still show the right menu.
        member = seller_membership_for_user(user=request.user)
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match is not None else ""
    return {"links": seller_center_nav_links(member=member, current_url_name=current or "")}


@register.filter
def money(amount_minor, currency):
    """{{ template.flat_fee_minor|money:template.currency }} -> "$4.99"."""
    if amount_minor is None or amount_minor == "":
        return ""
    return Money(int(amount_minor), currency).format()


@register.filter
def can_open_section(member, section: str) -> bool:
    """{% if request.seller_member|can_open_section:"returns" %}: whether this member's role
    opens a section, for links into it from another section's page."""
    return member is not None and can_open(member.role, Section(section))
