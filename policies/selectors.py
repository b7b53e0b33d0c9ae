"""Reads about policies."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from policies.models import Category, KeywordRule, PolicyDocument, PolicyVersion
from policies.screening import CategoryRule, KeywordRuleFacts, ScreeningRules


def _taken_effect_by(at: datetime) -> QuerySet[PolicyVersion]:
    """Versions whose date has come, the one in force first. The single definition of "in force"
    that every selector below builds on."""
    return PolicyVersion.objects.filter(effective_at__lte=at).order_by("-effective_at", "-number")


def policy_versions_in_force(*, at=None, seller_facing_only: bool = False) -> list[PolicyVersion]:
    """The version of each policy document in force at `at` (default: now): the highest-numbered
    version whose effective date has come. Documents with no version in force yet are left out.
    One query."""
    at = at or timezone.now()
    latest = _taken_effect_by(at).filter(document=OuterRef("document")).values("pk")[:1]
    versions = PolicyVersion.objects.filter(pk=Subquery(latest)).select_related("document")
    if seller_facing_only:
        versions = versions.filter(document__requires_seller_acceptance=True)
    return sorted(versions, key=lambda v: (v.document.position, v.document.title))


def policy_version_in_force(*, document: PolicyDocument, at=None) -> PolicyVersion | None:
    return _taken_effect_by(at or timezone.now()).filter(document=document).first()


def policy_version_next_scheduled(*, document: PolicyDocument, at=None) -> PolicyVersion | None:
    """The first version of `document` still waiting for its date, if any."""
    return (
        PolicyVersion.objects.filter(document=document, effective_at__gt=at or timezone.now())
        .order_by("effective_at", "number")
        .first()
    )


def policy_versions_taken_effect(*, document: PolicyDocument, at=None) -> QuerySet[PolicyVersion]:
    """The public history of `document`: every version whose date has come, newest first."""
    return _taken_effect_by(at or timezone.now()).filter(document=document).order_by("-number")


def policy_version_superseded_by(*, version: PolicyVersion, at=None) -> PolicyVersion | None:
    """The version that replaced `version`, once it has taken effect; None while it is in force."""
    return (
        _taken_effect_by(at or timezone.now())
        .filter(document_id=version.document_id, number__gt=version.number)
        .order_by("number")
        .first()
    )


@dataclass(frozen=True)
class PolicyIndexEntry:
    document: PolicyDocument
    version_in_force: PolicyVersion
    next_version: PolicyVersion | None


def policy_index_entries(*, at=None) -> list[PolicyIndexEntry]:
    """Each document with a version in force, its version in force and the next scheduled one.
    Two queries, whatever the number of documents."""
    at = at or timezone.now()
    in_force = policy_versions_in_force(at=at)
    first_scheduled = (
        PolicyVersion.objects.filter(document=OuterRef("document"), effective_at__gt=at)
        .order_by("effective_at", "number")
        .values("pk")[:1]
    )
    upcoming = {
        version.document_id: version
        for version in PolicyVersion.objects.filter(pk=Subquery(first_scheduled)).defer(
            "body_markdown"
        )
    }
    return [
        PolicyIndexEntry(
            document=version.document,
            version_in_force=version,
            next_version=upcoming.get(version.document_id),
        )
        for version in in_force
    ]


def category_rules_load() -> Mapping[int, CategoryRule]:
    """Every category by id, as the plain values policies.screening works on (`category_path`,
    `effective_category_status`). One query."""
    categories = {
        category_id: CategoryRule(
            id=category_id,
            name=name,
            parent_id=parent_id,
            policy_status=policy_status,
            policy_reason=policy_reason,
            qualification_hint=qualification_hint,
        )
        for category_id, name, parent_id, policy_status, policy_reason, qualification_hint in (
            Category.objects.values_list(
                "id", "name", "parent_id", "policy_status", "policy_reason", "qualification_hint"
            )
        )
    }
    return MappingProxyType(categories)


def screening_rules_load() -> ScreeningRules:
    """Every category and every active keyword rule, as the plain values `screen_listing` takes.
    Two queries; load once and screen many listings with the result."""
    categories = category_rules_load()
    keywords = tuple(
        KeywordRuleFacts(phrase=phrase, action=action, reason=reason, suggestion=suggestion)
        for phrase, action, reason, suggestion in KeywordRule.objects.filter(
            is_active=True
        ).values_list("phrase", "action", "reason", "suggestion")
    )
    return ScreeningRules(categories=categories, keywords=keywords)
