"""The whole seller journey in Chromium: sign up, apply, upload a document, accept the policies,
submit; platform staff approve in the admin; the seller finishes set-up and the checklist goes
green."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from marketplace.accounts.models import User
from policies.demo import seed_policies
from sellers.models import Seller, SellerStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-unusual-passphrase-42"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def sign_up(page, email):
    page.goto("/accounts/signup/")
    page.get_by_label("Your name").fill("Olga Owner")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Your account is ready")).to_be_visible()


def fill_application(page):
    page.get_by_label("Business").check()
    page.get_by_label("Shop name").fill("Olga's Outfitters")
    page.get_by_label("Shop address").fill("olgas-outfitters")
    page.get_by_label("Legal name").fill("Olga's Outfitters LLC")
    page.get_by_label("Contact email").fill("olga@example.com")
    page.get_by_label("Contact phone").fill("+1 555 0199")
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Address", exact=True).fill("12 Mill Road")
    page.get_by_label("City").fill("Boston")
    page.get_by_label("Postal code").fill("02110")
    page.get_by_label("Tax ID").fill("98-7654321")
    page.get_by_label("Main category").select_option(label="Fashion")
    page.get_by_role("button", name="Save and continue").click()


def upload_document(page, kind_label, file_name):
    page.get_by_label("Document type").select_option(label=kind_label)
    page.get_by_label("File").set_input_files(
        {"name": file_name, "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Upload document").click()
    expect(page.get_by_role("link", name=file_name)).to_be_visible()


def fill_address(page):
    page.get_by_label("Contact name").fill("Olga Owner")
    page.get_by_label("Phone").fill("+1 555 0199")
    page.get_by_label("Address line 1").fill("1 Warehouse Way")
    page.get_by_label("City").fill("Boston")
    page.get_by_label("Postal code").fill("02111")
    page.get_by_label("Country").select_option("US")
    page.get_by_role("button", name="Save address").click()
    expect(page.get_by_role("status").first).to_be_visible()


def test_a_seller_applies_is_approved_and_reaches_a_green_checklist(browser, live_server):
    seed_policies()
    User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    seller_context = browser.new_context(base_url=live_server.url)
    seller_context.set_default_timeout(10_000)
    page = seller_context.new_page()

    # Apply.
    sign_up(page, "olga@example.com")
    page.goto("/seller/")
    expect(page).to_have_url(live_server.url + reverse("seller_center:apply"))
    fill_application(page)
    expect(page.get_by_text("Before you submit")).to_be_visible()
    upload_document(page, "Passport", "passport-scan.pdf")
    upload_document(page, "Business registration certificate", "registration.pdf")

    page.goto(reverse("seller_center:policies"))
    page.get_by_label("I have read these policies and accept them on behalf of my shop").check()
    page.get_by_role("button", name="Accept all current policies").click()

    page.goto(reverse("seller_center:application"))
    page.get_by_role("button", name="Submit application").click()
    expect(page.get_by_text("submitted", exact=False).first).to_be_visible()
    seller = Seller.objects.get(slug="olgas-outfitters")
    assert seller.status == SellerStatus.SUBMITTED

    # Platform staff approve it in the admin.
    staff_context = browser.new_context(base_url=live_server.url)
    staff_context.set_default_timeout(10_000)
    admin = staff_context.new_page()
    admin.goto("/admin/login/")
    admin.get_by_label("Email address").fill("staff@example.com")
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    admin.goto(reverse("admin:sellers_seller_change", args=[seller.pk]))
    expect(admin.get_by_text("passport-scan.pdf").first).to_be_visible()
    admin.get_by_role("link", name="Approve", exact=True).click()
    admin.get_by_role("button", name="Approve").click()
    expect(admin.get_by_text("approved", exact=False).first).to_be_visible()
    seller.refresh_from_db()
    assert seller.status == SellerStatus.APPROVED
    staff_context.close()

    # The seller finishes set-up.
    page.goto(reverse("seller_center:dashboard"))
    expect(page.get_by_text("Get ready to sell")).to_be_visible()

    page.goto(reverse("seller_center:address_ship_from"))
    fill_address(page)
    page.goto(reverse("seller_center:address_return"))
    page.get_by_label("Same as my ship-from address").check()
    page.get_by_role("button", name="Save address").click()
    expect(page.get_by_role("status").first).to_be_visible()

    page.goto(reverse("seller_center:shipping"))
    page.get_by_label("Shipping fee per order (USD)").fill("4.99")
    page.get_by_label("Free shipping from (USD)").fill("50")
    page.get_by_role("button", name="Save shipping").click()
    expect(page.get_by_role("status").first).to_be_visible()

    page.goto(reverse("seller_center:payouts"))
    page.get_by_role("button", name="Connect payout account").click()
    expect(page.get_by_role("heading", name="Connect your payout account")).to_be_visible()
    page.get_by_label("Account holder name").fill("Olga's Outfitters LLC")
    page.get_by_label("Bank account number").fill("000123456789")
    page.get_by_role("button", name="Save test bank details").click()
    expect(page.get_by_text("Your payout account is connected")).to_be_visible()

    page.goto(reverse("seller_center:dashboard"))
    expect(page.get_by_role("heading", name="Ready to list products")).to_be_visible()
    expect(page.get_by_text("7 of 7").first).to_be_visible()
    seller_context.close()
