from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.forms.forms import NON_FIELD_ERRORS
from django.urls import reverse

from marketplace.accounts.models import User, normalize_email
from marketplace.accounts.ratelimit import LoginThrottle, SignInThrottled
from marketplace.accounts.services import user_password_reset_notify

# The column's length: Django's email validator allows up to 320 characters, and a longer value
# than the column would reach the database (PostgreSQL refuses it with an error, SQLite stores it).
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length


class SignUpForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=150, required=False)
    email = forms.EmailField(label="Email address", max_length=EMAIL_MAX_LENGTH)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Confirm password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords do not match.")
        elif password1:
            candidate = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class ThrottledAuthenticationMixin:
    """For AuthenticationForm subclasses: the password is checked only through the login throttle.

    Every sign-in form uses this (tests/accounts/test_sign_in_throttle.py lists the pages). A
    refused attempt is a non-field error with the code SignInThrottled.code; the views answer it
    with HTTP 429 (`throttled`).
    """

    def clean(self):
        # AuthenticationForm.clean, with the authenticate() call run through the throttle.
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            throttle = LoginThrottle.for_request(self.request, username)
            try:
                self.user_cache = throttle.attempt(
                    lambda: authenticate(self.request, username=username, password=password)
                )
            except SignInThrottled as error:
                raise forms.ValidationError(error.message, code=error.code) from error
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    @property
    def throttled(self) -> bool:
        return self.has_error(NON_FIELD_ERRORS, SignInThrottled.code)


def _email_username_field():
    # An email field with the column's length, so a malformed or over-long name is a form error
    # and never reaches the throttle or the database.
    return forms.EmailField(
        label="Email address",
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autofocus": True}),
    )


class EmailAuthenticationForm(ThrottledAuthenticationMixin, AuthenticationForm):
    username = _email_username_field()

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account. Check both and try again.",
    }


class AdminEmailAuthenticationForm(ThrottledAuthenticationMixin, AdminAuthenticationForm):
    """The admin site's sign-in (admin.py sets it as admin.site.login_form)."""

    username = _email_username_field()


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name"]
        labels = {"full_name": "Your name"}


class PasswordResetForm(DjangoPasswordResetForm):
    """Django's reset form, with the email sent as a notification (a background job) through
    `user_password_reset_notify` instead of inline. PasswordResetView throttles the requests."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        path = reverse(
            "accounts:password_reset_confirm",
            kwargs={"uidb64": context["uid"], "token": context["token"]},
        )
        user_password_reset_notify(
            user=context["user"], link=f"{context['protocol']}://{context['domain']}{path}"
        )
