"""Pages of the local test-mode gateway: what the provider would host in production.

The onboarding page stands in for Stripe's hosted onboarding. It collects a holder name and a test
account number, marks the test account as onboarded, and sends the seller back to the return URL,
which must point at this site: an onboarding page that redirects anywhere it is told to would be
an open redirect.
"""

import re

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from marketplace.errors import DomainError
from marketplace.payments.models import LocalConnectedAccount
from marketplace.payments.services import (
    ACCOUNT_NUMBER_PATTERN,
    TEST_ACCOUNT_NUMBER,
    local_account_complete_onboarding,
    local_onboarding_allowed,
)

# Where to go when the return URL is missing or points elsewhere.
FALLBACK_RETURN_PATH = "/seller/"
# What LocalGateway's ids are made of ("acct_local_seller-12"), within the column's 40 characters.
# Anything else is no account, and must not reach a query: PostgreSQL refuses a NUL in text.
EXTERNAL_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,40}")


class LocalOnboardingForm(forms.Form):
    holder = forms.CharField(
        label="Account holder name",
        max_length=120,
        help_text="The person or business the bank account belongs to.",
    )
    account_number = forms.RegexField(
        label="Bank account number",
        regex=ACCOUNT_NUMBER_PATTERN,
        max_length=17,
        error_messages={"invalid": "Enter 8 to 17 digits, with no spaces or dashes."},
        help_text=f"Test mode: use {TEST_ACCOUNT_NUMBER} (any 8 to 17 digits work).",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


def safe_return_url(request, url: str | None) -> str:
    """`url` if it stays on this site (a local path or this host), else the Seller Center."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return FALLBACK_RETURN_PATH


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def local_onboarding(request, external_id: str):
    if settings.PAYMENT_GATEWAY != "local":
        raise Http404("The test gateway is off.")
    if not EXTERNAL_ID_PATTERN.fullmatch(external_id):
        raise Http404("No such account.")
    account = LocalConnectedAccount.objects.filter(external_id=external_id).first()
    # The same 404 for an unknown account and for someone else's: the page admits nothing.
    if account is None or not local_onboarding_allowed(user=request.user, external_id=external_id):
        raise Http404("No such account.")
    return_url = request.GET.get("return_url") or request.POST.get("return_url")
    form = LocalOnboardingForm(
        request.POST or None, initial={"holder": account.bank_account_holder}
    )
    if request.method == "POST" and form.is_valid():
        try:
            local_account_complete_onboarding(
                external_id=external_id,
                holder=form.cleaned_data["holder"],
                account_number=form.cleaned_data["account_number"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            # No message here: like a real provider, the gateway hands back to the return page,
            # which reads the account and says what happened.
            return redirect(safe_return_url(request, return_url))
    context = {"form": form, "account": account, "return_url": return_url or ""}
    return render(request, "payments/local_onboarding.html", context)
