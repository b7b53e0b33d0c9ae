"""Access to the Seller Center: who is working for which seller, in which role.

Every Seller Center view is wrapped in `seller_center_view(section)`. It re-reads the membership
on each request (so removing a staff member revokes access at once), puts `request.seller` and
`request.seller_member` in place, and answers 404 when the role may not open the section: a wrong
door looks like no door.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect

from sellers.roles import Section, can_open
from sellers.selectors import seller_membership_for_user

# Platform staff who may open any seller's identity documents. Being staff is not enough: a staff
# account that edits policies or categories has no business with passports.
KYC_VIEW_PERMISSION = "sellers.view_kycdocument"


def user_may_view_every_kyc_document(user) -> bool:
    """Platform staff with the KYC permission (superusers have every permission)."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(KYC_VIEW_PERMISSION)
    )


def seller_center_view(section: Section, *, require_approved: bool = False):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            member = seller_membership_for_user(user=request.user)
            if member is None:
                # Not a seller yet: the application is the way in.
                return redirect("seller_center:apply")
            if not can_open(member.role, section):
                raise Http404("No such page in your Seller Center.")
            if require_approved and not member.seller.is_open:
                raise Http404("This part of the Seller Center opens when your shop is approved.")
            request.seller = member.seller
            request.seller_member = member
            return view(request, *args, **kwargs)

        wrapper.seller_center_section = section
        return wrapper

    return decorator
