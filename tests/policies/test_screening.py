import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.screening import (
    REJECT_CODES,
    CategoryRule,
    KeywordRuleFacts,
    ListingFacts,
    ReasonCode,
    ScreeningRules,
    SellerCredentials,
    normalize_brand,
    screen_listing,
)

FASHION, SHOES = 1, 2
BEAUTY, COSMETICS, LIPSTICK = 10, 11, 12
HEALTH, SUPPLEMENTS, FITNESS = 20, 21, 22
POLITICAL, CAMPAIGN_HATS = 30, 31

CATEGORIES = {
    category.id: category
    for category in [
        CategoryRule(FASHION, "Fashion", None, "allowed"),
        CategoryRule(SHOES, "Shoes", FASHION, "allowed"),
        CategoryRule(
            BEAUTY,
            "Beauty & personal care",
            None,
            "restricted",
            "Beauty products need a qualification.",
            "Upload a cosmetic product notification.",
        ),
        # Marked allowed, but it sits under a restricted category, so it is restricted.
        CategoryRule(COSMETICS, "Cosmetics", BEAUTY, "allowed"),
        CategoryRule(LIPSTICK, "Lipstick", COSMETICS, "allowed"),
        CategoryRule(HEALTH, "Health", None, "allowed"),
        CategoryRule(
            SUPPLEMENTS, "Supplements", HEALTH, "restricted", "Supplements are restricted."
        ),
        CategoryRule(FITNESS, "Fitness equipment", HEALTH, "allowed"),
        CategoryRule(
            POLITICAL,
            "Political merchandise",
            None,
            "prohibited",
            "Political campaign merchandise is not allowed on the marketplace",
        ),
        # A child may say "restricted"; the prohibited parent still wins.
        CategoryRule(CAMPAIGN_HATS, "Campaign hats", POLITICAL, "restricted"),
    ]
}

KEYWORDS = (
    KeywordRuleFacts("gun", "block", "Weapons are prohibited.", "Remove the product."),
    KeywordRuleFacts("vote for", "block", "Political slogans are not allowed."),
    KeywordRuleFacts("vintage", "review", "Vintage items are checked by a reviewer."),
    KeywordRuleFacts("c++", "review", "Checked by a reviewer."),
)

RULES = ScreeningRules(categories=CATEGORIES, keywords=KEYWORDS)
NO_CREDENTIALS = SellerCredentials()


def screen(
    *,
    title="Leather ankle boots",
    description="Soft leather, rubber sole.",
    category_id=SHOES,
    brand="",
    credentials=NO_CREDENTIALS,
    rules=RULES,
):
    listing = ListingFacts(
        title=title, description=description, category_id=category_id, brand=brand
    )
    return screen_listing(listing=listing, rules=rules, credentials=credentials)


def codes(decision):
    return [reason.code for reason in decision.reasons]


def test_a_plain_listing_in_an_allowed_category_is_approved():
    decision = screen()

    assert decision.outcome == "approve"
    assert decision.is_approved
    assert decision.reasons == ()


def test_a_prohibited_category_rejects_with_the_categorys_reason():
    decision = screen(category_id=POLITICAL)

    assert decision.outcome == "reject"
    [reason] = decision.reasons
    assert reason.code == ReasonCode.CATEGORY_PROHIBITED
    assert reason.message == "Political campaign merchandise is not allowed on the marketplace"
    assert reason.suggestion == "Choose another category or remove the product"
    assert reason.field == "category"


def test_a_prohibited_parent_beats_a_restricted_child_even_for_a_qualified_seller():
    decision = screen(
        category_id=CAMPAIGN_HATS,
        credentials=SellerCredentials(qualified_category_ids=frozenset({CAMPAIGN_HATS})),
    )

    assert codes(decision) == [ReasonCode.CATEGORY_PROHIBITED]


def test_a_restricted_category_without_a_qualification_rejects_with_a_pointer_to_upload_one():
    decision = screen(category_id=SUPPLEMENTS)

    assert decision.is_rejected
    [reason] = decision.reasons
    assert reason.code == ReasonCode.CATEGORY_NEEDS_QUALIFICATION
    assert reason.message == "Supplements are restricted."
    assert reason.suggestion == (
        "Upload a qualification for Supplements in Seller Center > Qualifications"
    )


def test_a_restricted_ancestor_makes_its_descendants_restricted():
    decision = screen(category_id=LIPSTICK)

    [reason] = decision.reasons
    assert reason.code == ReasonCode.CATEGORY_NEEDS_QUALIFICATION
    assert "Upload a cosmetic product notification." in reason.message
    assert "Beauty & personal care" in reason.suggestion


def test_a_qualification_for_the_category_itself_approves():
    credentials = SellerCredentials(qualified_category_ids=frozenset({SUPPLEMENTS}))

    assert screen(category_id=SUPPLEMENTS, credentials=credentials).is_approved


def test_a_qualification_for_an_ancestor_covers_its_descendants():
    credentials = SellerCredentials(qualified_category_ids=frozenset({BEAUTY}))

    assert screen(category_id=LIPSTICK, credentials=credentials).is_approved


def test_a_qualification_for_a_sibling_does_not_qualify():
    credentials = SellerCredentials(qualified_category_ids=frozenset({FITNESS}))

    assert screen(category_id=SUPPLEMENTS, credentials=credentials).is_rejected


def test_an_allowed_child_of_an_allowed_parent_needs_no_qualification():
    assert screen(category_id=FITNESS).is_approved


@pytest.mark.parametrize("category_id", [None, 9999])
def test_a_missing_or_unknown_category_rejects_asking_for_a_category(category_id):
    decision = screen(category_id=category_id)

    assert decision.is_rejected
    [reason] = decision.reasons
    assert reason.code in {ReasonCode.CATEGORY_MISSING, ReasonCode.CATEGORY_UNKNOWN}
    assert reason.suggestion == "Choose a category"
    assert reason.field == "category"


def test_a_blocked_word_in_the_title_rejects():
    decision = screen(title="Toy gun for kids")

    assert decision.is_rejected
    [reason] = decision.reasons
    assert reason.code == ReasonCode.KEYWORD_BLOCKED
    assert reason.field == "title"
    assert "“gun”" in reason.message
    assert reason.suggestion == "Remove the product."


def test_a_blocked_word_in_the_description_rejects_pointing_at_the_description():
    decision = screen(description="Comes with a GUN holster.")

    [reason] = decision.reasons
    assert reason.field == "description"


@pytest.mark.parametrize("text", ["Burgundy velvet dress", "Gunmetal watch", "Shotgun-free zone"])
def test_a_rule_matches_whole_words_only(text):
    assert screen(title=text, description=text).is_approved


@pytest.mark.parametrize("text", ["GUN", "Gun", "gun!", "(gun)", "a gun.", "gun-shaped lighter"])
def test_a_rule_ignores_letter_case_and_punctuation_around_the_word(text):
    assert codes(screen(title=text)) == [ReasonCode.KEYWORD_BLOCKED]


@pytest.mark.parametrize(
    "text", ["Vote for Smith", "VOTE   FOR change", "vote\nfor us", "vote\tfor"]
)
def test_a_phrase_matches_with_any_whitespace_between_its_words(text):
    assert codes(screen(description=text)) == [ReasonCode.KEYWORD_BLOCKED]


@pytest.mark.parametrize("text", ["vote forward", "devote for", "vote, for"])
def test_a_phrase_does_not_match_partial_words_or_other_separators(text):
    assert screen(description=text).is_approved


def test_a_rule_ending_in_punctuation_still_matches_as_a_word():
    assert screen(title="Learn C++ in a week").needs_review
    assert screen(title="Learn C++11 in a week").is_approved


def test_a_review_word_sends_the_listing_to_review():
    decision = screen(title="Vintage denim jacket")

    assert decision.outcome == "review"
    assert decision.needs_review
    assert codes(decision) == [ReasonCode.KEYWORD_NEEDS_REVIEW]


def test_an_unauthorized_brand_sends_the_listing_to_review():
    decision = screen(brand="  Acme ")

    assert decision.needs_review
    [reason] = decision.reasons
    assert reason.code == ReasonCode.BRAND_NOT_AUTHORIZED
    assert reason.message == (
        "Brand Acme needs a brand authorization; upload one or wait for manual review"
    )
    assert reason.field == "brand"


def test_an_authorized_brand_matches_whatever_its_letter_case():
    credentials = SellerCredentials(authorized_brands=frozenset({normalize_brand("ACME Co")}))

    assert screen(brand="Acme  co", credentials=credentials).is_approved


def test_every_reason_is_collected_and_reject_wins_over_review():
    decision = screen(
        title="Vintage gun", description="Vote for me", category_id=SUPPLEMENTS, brand="Acme"
    )

    assert decision.outcome == "reject"
    assert codes(decision) == [
        ReasonCode.CATEGORY_NEEDS_QUALIFICATION,
        ReasonCode.KEYWORD_BLOCKED,  # gun
        ReasonCode.KEYWORD_BLOCKED,  # vote for
        ReasonCode.KEYWORD_NEEDS_REVIEW,  # vintage
        ReasonCode.BRAND_NOT_AUTHORIZED,
    ]
    assert len(decision.reject_reasons) == 3
    assert len(decision.review_reasons) == 2
    assert [r.field for r in decision.reasons_for("title")] == ["title", "title"]


def test_a_category_cycle_in_bad_data_does_not_loop():
    looping = {
        1: CategoryRule(1, "A", 2, "allowed"),
        2: CategoryRule(2, "B", 1, "restricted"),
    }

    decision = screen(category_id=1, rules=ScreeningRules(categories=looping))

    assert codes(decision) == [ReasonCode.CATEGORY_NEEDS_QUALIFICATION]


@pytest.mark.django_db
def test_screening_never_queries_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        screen(title="Vintage gun", category_id=LIPSTICK, brand="Acme")


# Property: the outcome follows from the reasons, whatever the listing.

words = st.sampled_from(["gun", "vintage", "vote", "for", "burgundy", "boots", "c++", "Acme", " "])
texts = st.lists(words, max_size=8).map(" ".join)


@given(
    title=texts,
    description=texts,
    category_id=st.one_of(st.none(), st.sampled_from([*CATEGORIES, 9999])),
    brand=st.sampled_from(["", "Acme", "Other"]),
    qualified=st.frozensets(st.sampled_from(list(CATEGORIES)), max_size=3),
)
def test_the_outcome_is_reject_exactly_when_a_reason_rejects(
    title, description, category_id, brand, qualified
):
    credentials = SellerCredentials(
        qualified_category_ids=qualified, authorized_brands=frozenset({"acme"})
    )

    decision = screen(
        title=title,
        description=description,
        category_id=category_id,
        brand=brand,
        credentials=credentials,
    )

    rejecting = any(reason.code in REJECT_CODES for reason in decision.reasons)
    assert (decision.outcome == "reject") == rejecting
    assert (decision.outcome == "approve") == (not decision.reasons)
