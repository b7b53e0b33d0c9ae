"""Listing screening: may this listing go live, does it need a person to look at it, or is it refused?

`screen_listing` is a pure function over plain values. It never touches the database, so catalog
can call it for every save (and in bulk imports) with rules loaded once by
`policies.selectors.screening_rules_load`, tests need no database, and the same inputs always
give the same decision. The seller's credentials (approved qualifications, brand authorizations)
live in sellers; the caller reads them and passes them in.

The rules, in order, every reason collected:

1. Category: the effective status is the strictest on the path from the root (prohibited >
   restricted > allowed). Prohibited rejects; restricted rejects unless the seller is qualified
   for the category or one of its ancestors; a missing or unknown category rejects.
2. Keywords: each active rule is matched as a whole word or phrase, ignoring letter case, in the
   title and the description. "block" rejects; "review" sends to manual review.
3. Brand: a brand the seller has no authorization for sends the listing to manual review.

The outcome is the strictest of the reasons: reject, else review, else approve.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

# Plain strings rather than the model's TextChoices so this module imports nothing from Django.
ALLOWED = "allowed"
RESTRICTED = "restricted"
PROHIBITED = "prohibited"
_STRICTNESS = {ALLOWED: 0, RESTRICTED: 1, PROHIBITED: 2}

BLOCK = "block"
REVIEW = "review"

Outcome = Literal["approve", "review", "reject"]


class ReasonCode:
    CATEGORY_MISSING = "category_missing"
    CATEGORY_UNKNOWN = "category_unknown"
    CATEGORY_PROHIBITED = "category_prohibited"
    CATEGORY_NEEDS_QUALIFICATION = "category_needs_qualification"
    KEYWORD_BLOCKED = "keyword_blocked"
    KEYWORD_NEEDS_REVIEW = "keyword_needs_review"
    BRAND_NOT_AUTHORIZED = "brand_not_authorized"


REJECT_CODES = frozenset(
    {
        ReasonCode.CATEGORY_MISSING,
        ReasonCode.CATEGORY_UNKNOWN,
        ReasonCode.CATEGORY_PROHIBITED,
        ReasonCode.CATEGORY_NEEDS_QUALIFICATION,
        ReasonCode.KEYWORD_BLOCKED,
    }
)
REVIEW_CODES = frozenset({ReasonCode.KEYWORD_NEEDS_REVIEW, ReasonCode.BRAND_NOT_AUTHORIZED})


@dataclass(frozen=True)
class ListingFacts:
    title: str
    description: str
    category_id: int | None
    brand: str = ""


@dataclass(frozen=True)
class CategoryRule:
    id: int
    name: str
    parent_id: int | None
    policy_status: str
    policy_reason: str = ""
    qualification_hint: str = ""


@dataclass(frozen=True)
class KeywordRuleFacts:
    phrase: str
    action: str  # BLOCK or REVIEW
    reason: str
    suggestion: str = ""


@dataclass(frozen=True)
class ScreeningRules:
    categories: Mapping[int, CategoryRule]
    keywords: tuple[KeywordRuleFacts, ...] = ()


@dataclass(frozen=True)
class SellerCredentials:
    qualified_category_ids: frozenset[int] = frozenset()
    # Build with normalize_brand() so "  ACME " and "acme" are the same brand.
    authorized_brands: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    suggestion: str = ""
    field: str = ""  # the listing field to fix: "category", "title", "description" or "brand"

    @property
    def rejects(self) -> bool:
        return self.code in REJECT_CODES


@dataclass(frozen=True)
class ScreeningDecision:
    outcome: Outcome
    reasons: tuple[Reason, ...] = field(default=())

    @property
    def is_approved(self) -> bool:
        return self.outcome == "approve"

    @property
    def needs_review(self) -> bool:
        return self.outcome == "review"

    @property
    def is_rejected(self) -> bool:
        return self.outcome == "reject"

    @property
    def reject_reasons(self) -> tuple[Reason, ...]:
        return tuple(reason for reason in self.reasons if reason.code in REJECT_CODES)

    @property
    def review_reasons(self) -> tuple[Reason, ...]:
        return tuple(reason for reason in self.reasons if reason.code in REVIEW_CODES)

    def reasons_for(self, field_name: str) -> tuple[Reason, ...]:
        """The reasons to show next to one form field."""
        return tuple(reason for reason in self.reasons if reason.field == field_name)

    @classmethod
    def from_reasons(cls, reasons: Iterable[Reason]) -> "ScreeningDecision":
        reasons = tuple(reasons)
        codes = {reason.code for reason in reasons}
        if codes & REJECT_CODES:
            outcome: Outcome = "reject"
        elif reasons:
            outcome = "review"
        else:
            outcome = "approve"
        return cls(outcome=outcome, reasons=reasons)


def normalize_brand(name: str) -> str:
    """The form brands are compared in: lower case, no outer spaces, single inner spaces."""
    return " ".join((name or "").split()).lower()


def strictest_status(statuses: Iterable[str]) -> str:
    return max(statuses, key=lambda status: _STRICTNESS.get(status, 0), default=ALLOWED)


def category_path(category_id: int, categories: Mapping[int, CategoryRule]) -> list[CategoryRule]:
    """The category and its ancestors, nearest first. Stops at a missing parent or a cycle, so
    bad data can never loop forever."""
    path: list[CategoryRule] = []
    seen: set[int] = set()
    current = categories.get(category_id)
    while current is not None and current.id not in seen:
        path.append(current)
        seen.add(current.id)
        current = categories.get(current.parent_id) if current.parent_id is not None else None
    return path


def effective_category_status(category_id: int, categories: Mapping[int, CategoryRule]) -> str:
    return strictest_status(
        category.policy_status for category in category_path(category_id, categories)
    )


def screen_listing(
    *, listing: ListingFacts, rules: ScreeningRules, credentials: SellerCredentials
) -> ScreeningDecision:
    reasons = [
        *_category_reasons(listing, rules.categories, credentials),
        *_keyword_reasons(listing, rules.keywords),
        *_brand_reasons(listing, credentials),
    ]
    return ScreeningDecision.from_reasons(reasons)


def _category_reasons(
    listing: ListingFacts, categories: Mapping[int, CategoryRule], credentials: SellerCredentials
) -> list[Reason]:
    if listing.category_id is None:
        return [
            Reason(
                ReasonCode.CATEGORY_MISSING,
                "The listing has no category.",
                "Choose a category",
                "category",
            )
        ]
    path = category_path(listing.category_id, categories)
    if not path:
        return [
            Reason(
                ReasonCode.CATEGORY_UNKNOWN,
                "The chosen category does not exist any more.",
                "Choose a category",
                "category",
            )
        ]

    status = strictest_status(category.policy_status for category in path)
    if status == ALLOWED:
        return []
    # The nearest category carrying the strictest status is the rule that applies: its reason
    # and hint are the most specific ones a seller can act on.
    ruling = next(category for category in path if category.policy_status == status)
    if status == PROHIBITED:
        return [
            Reason(
                ReasonCode.CATEGORY_PROHIBITED,
                ruling.policy_reason
                or f"{ruling.name} products are not allowed on the marketplace.",
                "Choose another category or remove the product",
                "category",
            )
        ]
    # Restricted: a qualification for the category or any ancestor covers the whole subtree.
    if any(category.id in credentials.qualified_category_ids for category in path):
        return []
    message = ruling.policy_reason or f"{ruling.name} is a restricted category."
    if ruling.qualification_hint:
        message = f"{message} {ruling.qualification_hint}"
    return [
        Reason(
            ReasonCode.CATEGORY_NEEDS_QUALIFICATION,
            message,
            f"Upload a qualification for {ruling.name} in Seller Center > Qualifications",
            "category",
        )
    ]


@lru_cache(maxsize=1024)
def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Whole words, any letter case, any whitespace between the words of a phrase.

    Lookarounds on word characters rather than a bare ``\\b``: the same boundary for phrases
    that start and end with a letter or digit (so "gun" never matches "burgundy"), and still
    correct for phrases that end in punctuation such as "c++", where ``\\b`` would need a word
    character after the "+".
    """
    words = phrase.split()
    body = r"\s+".join(re.escape(word) for word in words)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _keyword_reasons(listing: ListingFacts, keywords: Iterable[KeywordRuleFacts]) -> list[Reason]:
    reasons = []
    for rule in keywords:
        if not rule.phrase.split():
            continue  # an empty phrase would match everything
        pattern = phrase_pattern(rule.phrase)
        if pattern.search(listing.title or ""):
            where = "title"
        elif pattern.search(listing.description or ""):
            where = "description"
        else:
            continue
        blocked = rule.action == BLOCK
        reasons.append(
            Reason(
                ReasonCode.KEYWORD_BLOCKED if blocked else ReasonCode.KEYWORD_NEEDS_REVIEW,
                f"The {where} mentions “{rule.phrase}”. {rule.reason}".strip(),
                rule.suggestion
                or (
                    f"Remove “{rule.phrase}” from the title and description"
                    if blocked
                    else "A reviewer will check the listing; no change is needed"
                ),
                where,
            )
        )
    return reasons


def _brand_reasons(listing: ListingFacts, credentials: SellerCredentials) -> list[Reason]:
    brand = normalize_brand(listing.brand)
    if not brand or brand in credentials.authorized_brands:
        return []
    shown = " ".join(listing.brand.split())
    return [
        Reason(
            ReasonCode.BRAND_NOT_AUTHORIZED,
            f"Brand {shown} needs a brand authorization; upload one or wait for manual review",
            "Upload a brand authorization in Seller Center > Qualifications",
            "brand",
        )
    ]
