"""Seller Center: dashboard, set-up, staff, policies, qualifications, sections.

Every view is wrapped in `seller_center_view(section)`, which answers 404 for a role that may not
open the section (and, with require_approved, for a shop that is not approved yet). Views parse
input and call one service; a service's DomainError becomes a message next to the form.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, resolve, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from marketplace.errors import DomainError
from marketplace.uploads import private_file_response, private_storage
from policies.selectors import policy_versions_in_force
from sellers.access import seller_center_view
from sellers.forms.setup import (
    InvitationForm,
    MemberRoleForm,
    PolicyAcceptanceForm,
    QualificationForm,
    ReturnAddressForm,
    ShippingTemplateForm,
    ShopAddressForm,
    ShopProfileForm,
)
from sellers.models import (
    PayoutAccount,
    Qualification,
    SellerInvitation,
    SellerPolicyAcceptance,
    ShippingTemplate,
    ShopAddress,
)
from sellers.prerequisites import (
    Prerequisite,
    seller_has_changed_policies,
    seller_listing_prerequisites,
    seller_violation_standing,
)
from sellers.roles import ROLES_THAT_ACCEPT_POLICIES, ROLES_THAT_MANAGE_STAFF, Section, can_open
from sellers.services import policy_acceptance as policy_services
from sellers.services import qualifications as qualification_services
from sellers.services import setup as setup_services
from sellers.services import staff as staff_services
from sellers.services.setup import SellerRecordNotFound

PAGE_SIZE = 25


def _site_root(request) -> str:
    """Scheme and host of this request, for links that leave the site (emails, the gateway)."""
    return request.build_absolute_uri("/").rstrip("/")


def _form_status(request) -> int:
    """A form page reached by POST is showing errors (success redirects): answer 400, not 200."""
    return 400 if request.method == "POST" else 200


def _client_ip(request) -> str | None:
    # REMOTE_ADDR only: a forwarded-for header is whatever the client chose to send.
    return request.META.get("REMOTE_ADDR") or None


def _member_can_open_url(member, url_name: str) -> bool:
    """Whether the member's role may open the Seller Center page named `url_name`."""
    try:
        match = resolve(reverse(url_name))
    except NoReverseMatch:
        return False
    section = getattr(match.func, "seller_center_section", None)
    return section is None or can_open(member.role, section)


# --- Dashboard --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    prerequisite: Prerequisite
    url: str | None  # None: this member's role cannot open the page that fixes it

    @property
    def action_label(self) -> str:
        return CHECKLIST_ACTIONS.get(self.prerequisite.key, "Open")


CHECKLIST_ACTIONS = {
    "application_approved": "See your application",
    "policies_accepted": "Review policies",
    "ship_from_address": "Add address",
    "return_address": "Add address",
    "shipping_template": "Set shipping",
    "payout_account": "Connect payouts",
    "good_standing": "See your points",
}


@seller_center_view(Section.DASHBOARD)
@require_safe
def dashboard(request):
    seller, member = request.seller, request.seller_member
    prerequisites = seller_listing_prerequisites(seller=seller)
    checklist = [
        ChecklistItem(
            prerequisite,
            reverse(prerequisite.url_name)
            if _member_can_open_url(member, prerequisite.url_name)
            else None,
        )
        for prerequisite in prerequisites
    ]
    done_count = sum(1 for prerequisite in prerequisites if prerequisite.done)
    standing = seller_violation_standing(seller=seller)
    context = {
        "seller": seller,
        "member": member,
        "checklist": checklist,
        "done_count": done_count,
        "total_count": len(prerequisites),
        "ready_to_list": done_count == len(prerequisites),
        "policy_changed": seller_has_changed_policies(seller=seller),
        "standing": standing,
        "progress_label": f"{done_count} of {len(prerequisites)}",
        "points_hint": f"Each violation counts for {standing.points_expire_after_days} days",
        "can_open_application": _member_can_open_url(member, "seller_center:application"),
    }
    return render(request, "sellers/seller_center/dashboard.html", context)


# --- Sections that the later issues fill (affiliates, messages); products, orders and returns
# live in their apps ----------------------------------------------------------------------------


def _section_page(section: Section, template_name: str):
    @seller_center_view(section, require_approved=True)
    @require_safe
    def view(request):
        return render(request, template_name, {"seller": request.seller})

    view.__name__ = f"{section.value}_page"
    return view


affiliates = _section_page(Section.AFFILIATES, "sellers/seller_center/affiliates.html")
seller_messages = _section_page(Section.MESSAGES, "sellers/seller_center/messages.html")


# --- Settings: profile, addresses, shipping, payouts ------------------------------------------


@seller_center_view(Section.SETTINGS)
@require_http_methods(["GET", "HEAD", "POST"])
def shop_settings(request):
    seller = request.seller
    initial = {
        "description": seller.description,
        "message_hours_start": seller.message_hours_start,
        "message_hours_end": seller.message_hours_end,
        "return_window_days": seller.return_window_days,
    }
    form = ShopProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            setup_services.seller_profile_update(seller=seller, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Your shop profile is saved.")
            return redirect("seller_center:settings")
    addresses = {address.kind: address for address in ShopAddress.objects.filter(seller=seller)}
    context = {
        "seller": seller,
        "form": form,
        "ship_from": addresses.get(ShopAddress.Kind.SHIP_FROM),
        "return_address": addresses.get(ShopAddress.Kind.RETURN),
        "shipping_template": ShippingTemplate.objects.filter(seller=seller).first(),
        "payout_account": PayoutAccount.objects.filter(seller=seller).first(),
    }
    return render(
        request, "sellers/seller_center/settings.html", context, status=_form_status(request)
    )


@seller_center_view(Section.SETTINGS)
@require_http_methods(["GET", "HEAD", "POST"])
def address_edit(request, kind: str):
    seller = request.seller
    address = ShopAddress.objects.filter(seller=seller, kind=kind).first()
    form_class = ReturnAddressForm if kind == ShopAddress.Kind.RETURN else ShopAddressForm
    initial = (
        {name: getattr(address, name) for name in setup_services.ADDRESS_FIELDS}
        if address
        else {"country": seller.country, "contact_name": seller.legal_name}
    )
    form = form_class(request.POST or None, initial=initial)
    label = ShopAddress.Kind(kind).label
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data.get("copy_from_ship_from"):
                setup_services.shop_return_address_copy_from_ship_from(seller=seller)
            else:
                setup_services.shop_address_set(seller=seller, kind=kind, **form.address_values())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Your {label.lower()} address is saved.")
            return redirect("seller_center:settings")
    context = {
        "form": form,
        "kind": kind,
        "label": label,
        "address": address,
        "has_ship_from": ShopAddress.objects.filter(
            seller=seller, kind=ShopAddress.Kind.SHIP_FROM
        ).exists(),
    }
    return render(
        request, "sellers/seller_center/address_form.html", context, status=_form_status(request)
    )


@seller_center_view(Section.SETTINGS)
@require_http_methods(["GET", "HEAD", "POST"])
def shipping(request):
    seller = request.seller
    template = ShippingTemplate.objects.filter(seller=seller).first()
    currency = template.currency if template else None
    form = ShippingTemplateForm(
        request.POST or None, initial=ShippingTemplateForm.initial_from(template), currency=currency
    )
    if request.method == "POST" and form.is_valid():
        try:
            setup_services.shipping_template_set(
                seller=seller,
                flat_fee_minor=form.cleaned_data["flat_fee"],
                free_shipping_threshold_minor=form.cleaned_data["free_shipping_threshold"],
                processing_days=form.cleaned_data["processing_days"],
                currency=form.currency,
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Your shipping settings are saved.")
            return redirect("seller_center:settings")
    return render(
        request,
        "sellers/seller_center/shipping.html",
        {"form": form, "template": template},
        status=_form_status(request),
    )


@seller_center_view(Section.SETTINGS)
@require_safe
def payouts(request):
    context = {
        "seller": request.seller,
        "payout_account": PayoutAccount.objects.filter(seller=request.seller).first(),
    }
    return render(request, "sellers/seller_center/payouts.html", context)


@seller_center_view(Section.SETTINGS)
@require_POST
def payout_connect(request):
    try:
        onboarding_url = setup_services.payout_account_connect(
            seller=request.seller, actor=request.user, site_root=_site_root(request)
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("seller_center:payouts")
    return redirect(onboarding_url)


@seller_center_view(Section.SETTINGS)
@require_safe
def payout_return(request):
    """Where the gateway sends the seller back after onboarding: read the account's new state."""
    try:
        account = setup_services.payout_account_refresh(seller=request.seller)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("seller_center:payouts")
    if account.status == PayoutAccount.Status.ACTIVE:
        messages.success(request, "Your payout account is connected. Payouts will go to it.")
    elif account.status == PayoutAccount.Status.RESTRICTED:
        messages.warning(
            request, "The payment provider needs more information before payouts can start."
        )
    else:
        messages.info(request, "Onboarding is not finished yet. Continue when you are ready.")
    return redirect("seller_center:payouts")


# --- Staff ------------------------------------------------------------------------------------


def _require_staff_manager(request) -> None:
    if request.seller_member.role not in ROLES_THAT_MANAGE_STAFF:
        raise Http404("No such page in your Seller Center.")


def _staff_page(request, *, invite_form=None, status=200):
    seller = request.seller
    members = Paginator(
        seller.members.select_related("user").order_by("joined_at", "id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    pending = SellerInvitation.objects.filter(
        seller=seller,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("invited_by")
    context = {
        "page_obj": members,
        "invitations": pending,
        "invite_form": invite_form or InvitationForm(),
        "role_form": MemberRoleForm(),
        "me": request.seller_member,
    }
    return render(request, "sellers/seller_center/staff.html", context, status=status)


@seller_center_view(Section.STAFF)
@require_safe
def staff(request):
    _require_staff_manager(request)
    return _staff_page(request)


@seller_center_view(Section.STAFF)
@require_POST
def staff_invite(request):
    _require_staff_manager(request)
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation, _ = staff_services.seller_invitation_create(
                seller=request.seller,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
                link_base=_site_root(request),
            )
        except DomainError as error:
            form.add_error("email", error.message)
        else:
            messages.success(
                request,
                f"Invitation sent to {invitation.email}. The link works for 7 days.",
            )
            return redirect("seller_center:staff")
    return _staff_page(request, invite_form=form, status=400)


@seller_center_view(Section.STAFF)
@require_POST
def staff_invitation_revoke(request, invitation_id: int):
    _require_staff_manager(request)
    try:
        invitation = staff_services.seller_invitation_revoke(
            seller=request.seller, invitation_id=invitation_id, actor=request.user
        )
    except SellerRecordNotFound:
        raise Http404("No such invitation.") from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The invitation for {invitation.email} is revoked.")
    return redirect("seller_center:staff")


@seller_center_view(Section.STAFF)
@require_POST
def staff_member_role(request, member_id: int):
    _require_staff_manager(request)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the staff roles.")
        return redirect("seller_center:staff")
    try:
        member = staff_services.seller_member_change_role(
            seller=request.seller,
            member_id=member_id,
            role=form.cleaned_data["role"],
            actor=request.user,
        )
    except SellerRecordNotFound:
        raise Http404("No such member.") from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"{member.user.get_full_name()} is now {member.get_role_display().lower()}."
        )
    return redirect("seller_center:staff")


@seller_center_view(Section.STAFF)
@require_POST
def staff_member_remove(request, member_id: int):
    _require_staff_manager(request)
    try:
        staff_services.seller_member_remove(
            seller=request.seller, member_id=member_id, actor=request.user
        )
    except SellerRecordNotFound:
        raise Http404("No such member.") from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The member is removed; their access has ended.")
    if not request.seller.members.filter(user=request.user).exists():
        return redirect("storefront:home")
    return redirect("seller_center:staff")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request, token: str):
    """Open to any signed-in person: they are not a member until they accept."""
    invitation = staff_services.seller_invitation_get_by_token(raw_token=token)
    error = None
    if request.method == "POST":
        try:
            member = staff_services.seller_invitation_accept(raw_token=token, user=request.user)
        except DomainError as failure:
            error = failure.message
        else:
            messages.success(
                request,
                f"Welcome to {member.seller.shop_name}. You work here as "
                f"{member.get_role_display().lower()}.",
            )
            return redirect("seller_center:dashboard")
    elif invitation is None:
        error = "This invitation link is not valid. Ask for a new one."
    elif not invitation.is_pending:
        error = "This invitation can no longer be used: it was accepted, withdrawn or has expired."
    elif invitation.email != request.user.email:
        error = (
            f"This invitation was sent to {invitation.email}, but you are signed in as "
            f"{request.user.email}. Sign in with the invited address to accept it."
        )
    context = {"invitation": invitation, "error": error}
    return render(
        request,
        "sellers/seller_center/invitation_accept.html",
        context,
        status=400 if error and request.method == "POST" else 200,
    )


# --- Policies and violations ------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyRow:
    version: object
    accepted: bool
    url: str | None


def _policy_url(version) -> str | None:
    # The public policy pages belong to the policies app; link to the exact version when it can.
    for name, args in (
        ("policies:version", [version.document.slug, version.number]),
        ("policies:detail", [version.document.slug]),
    ):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return None


def _policies_page(request, *, form=None, status=200):
    seller = request.seller
    in_force = policy_versions_in_force(seller_facing_only=True)
    accepted = set(
        SellerPolicyAcceptance.objects.filter(
            seller=seller, policy_version__in=[version.pk for version in in_force]
        ).values_list("policy_version_id", flat=True)
    )
    rows = [
        PolicyRow(version, version.pk in accepted, _policy_url(version)) for version in in_force
    ]
    outstanding_ids = [row.version.pk for row in rows if not row.accepted]
    can_accept = request.seller_member.role in ROLES_THAT_ACCEPT_POLICIES
    standing = seller_violation_standing(seller=seller)
    if form is None and outstanding_ids:
        form = PolicyAcceptanceForm(
            initial={"version_ids": ",".join(str(pk) for pk in outstanding_ids)}
        )
    violations = Paginator(seller.violations.order_by("-occurred_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "rows": rows,
        "outstanding_count": len(outstanding_ids),
        "can_accept": can_accept,
        "form": form if can_accept else None,
        "standing": standing,
        "points_hint": f"Points expire {standing.points_expire_after_days} days after the violation",
        "page_obj": violations,
        "now": timezone.now(),
    }
    return render(request, "sellers/seller_center/policies.html", context, status=status)


@seller_center_view(Section.POLICIES)
@require_safe
def policies(request):
    return _policies_page(request)


@seller_center_view(Section.POLICIES)
@require_POST
def policies_accept(request):
    if request.seller_member.role not in ROLES_THAT_ACCEPT_POLICIES:
        raise Http404("No such page in your Seller Center.")
    form = PolicyAcceptanceForm(request.POST)
    if form.is_valid():
        try:
            accepted = policy_services.seller_policies_accept(
                seller=request.seller,
                user=request.user,
                ip_address=_client_ip(request),
                version_ids=form.cleaned_data["version_ids"],
            )
        except policy_services.StalePolicyVersion as error:
            # Show the page again with the current texts: the old form is useless now.
            messages.error(request, error.message)
            return redirect("seller_center:policies")
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            count = len(accepted)
            messages.success(
                request, f"Thank you: {count} polic{'y' if count == 1 else 'ies'} accepted."
            )
            return redirect("seller_center:policies")
    return _policies_page(request, form=form, status=400)


# --- Qualifications ---------------------------------------------------------------------------


def _qualifications_page(request, *, form=None, status=200):
    qualifications = Paginator(
        Qualification.objects.filter(seller=request.seller)
        .select_related("category")
        .order_by("-submitted_at", "-id"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    context = {"form": form or QualificationForm(), "page_obj": qualifications}
    return render(request, "sellers/seller_center/qualifications.html", context, status=status)


@seller_center_view(Section.PRODUCTS)
@require_http_methods(["GET", "HEAD", "POST"])
def qualifications(request):
    if request.method != "POST":
        return _qualifications_page(request)
    form = QualificationForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            qualification = qualification_services.qualification_submit(
                seller=request.seller,
                kind=form.cleaned_data["kind"],
                document=form.cleaned_data["document"],
                submitted_by=request.user,
                category=form.cleaned_data.get("category"),
                brand_name=form.cleaned_data.get("brand_name", ""),
                expires_on=form.cleaned_data.get("expires_on"),
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"Your {qualification.get_kind_display().lower()} is submitted. The marketplace "
                "team reviews it and you will hear back by email.",
            )
            return redirect("seller_center:qualifications")
    return _qualifications_page(request, form=form, status=400)


@seller_center_view(Section.PRODUCTS)
@require_safe
def qualification_document(request, qualification_id: int):
    qualification = Qualification.objects.filter(seller=request.seller, pk=qualification_id).first()
    if qualification is None or not qualification.document:
        raise Http404("No such document.")
    try:
        handle = private_storage.open(qualification.document.name, "rb")
    except FileNotFoundError:
        raise Http404("The file of this document is missing.") from None
    return private_file_response(
        handle, filename=qualification.original_name, content_type=qualification.content_type
    )
