"""Writes for a seller's acceptance of the marketplace policies."""

from collections.abc import Iterable

from django.db import transaction

from marketplace.errors import DomainError
from policies.selectors import policy_versions_in_force
from sellers.models import Seller, SellerMember, SellerPolicyAcceptance
from sellers.roles import ROLES_THAT_ACCEPT_POLICIES


class PolicyAcceptanceRefused(DomainError):
    code = "policy_acceptance_refused"


class StalePolicyVersion(DomainError):
    """The page showed a version that is no longer in force: a new text took effect meanwhile."""

    code = "stale_policy_version"


def seller_policies_accept(
    *, seller: Seller, user, ip_address: str | None, version_ids: Iterable[int]
) -> list[SellerPolicyAcceptance]:
    """Record that `user` accepted, for `seller`, the policy versions the page showed them.

    `version_ids` are the versions on the page the user read. Every one must still be in force:
    if any has been replaced since, the whole request is refused (StalePolicyVersion, nothing
    written) so nobody accepts a text they did not see. Versions accepted before are left as they
    are. Raises PolicyAcceptanceRefused for a user whose role may not accept policies.
    """
    shown = {int(version_id) for version_id in version_ids}
    if not shown:
        raise PolicyAcceptanceRefused("There is no policy to accept.")
    member = SellerMember.objects.filter(seller=seller, user=user).first()
    if member is None or member.role not in ROLES_THAT_ACCEPT_POLICIES:
        raise PolicyAcceptanceRefused("Only the shop's owner or an admin can accept policies.")
    in_force = {
        version.pk: version for version in policy_versions_in_force(seller_facing_only=True)
    }
    if shown - set(in_force):
        raise StalePolicyVersion(
            "A policy changed while this page was open. Read the current version and accept again."
        )
    acceptances = []
    with transaction.atomic():
        for version_id in sorted(shown):
            acceptance, _ = SellerPolicyAcceptance.objects.get_or_create(
                seller=seller,
                policy_version=in_force[version_id],
                defaults={"accepted_by": user, "ip_address": ip_address or None},
            )
            acceptances.append(acceptance)
    return acceptances
